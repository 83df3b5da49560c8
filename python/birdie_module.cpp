// The engine from Python (module birdie._engine, wrapped by python/birdie/__init__.py): a
// trained model of any architecture loaded as the evaluation programs load it
// (apps/common/trained_model.h), its tokenizer and reserved tokens, log-likelihoods of
// continuations scored as choice_eval scores choices (apps/common/choice_scoring.h),
// generation as generate lays out its prompt (apps/common/generation_prompt.h,
// model/generator.h), and the tasks' pieces (phone books, question-answer scoring).
// Token ids go in and out as NumPy int32 arrays (any sequence of integers is taken),
// log-likelihoods as float64 arrays. Engine errors raise birdie.Error (a RuntimeError)
// carrying the engine's message.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/common/choice_scoring.h"
#include "training/finetune.h"
#include "apps/common/generation_prompt.h"
#include "apps/common/trained_model.h"
#include "autograd/tape.h"
#include "data/special_tokens.h"
#include "data/tasks/phonebook.h"
#include "data/tasks/qa.h"
#include "engine/device.h"
#include "engine/error.h"
#include "model/generator.h"
#include "objectives/batch_tensors.h"
#include "objectives/packed_batch.h"

namespace py = pybind11;
using namespace birdie;

namespace {

using Tokens = std::vector<data::Token>;

// Arrays cross through NumPy's Python functions and the buffer protocol, not pybind11's
// NumPy header: that works with any NumPy (pybind11 2.10's header predates NumPy 2's layout).
py::module_ numpy() { return py::module_::import("numpy"); }

// The ids of `object`, each checked to lie in [0, vocab).
Tokens to_tokens(const py::handle& object, std::int64_t vocab) {
  const py::object np = numpy();
  const py::object given = np.attr("asarray")(object);
  if (given.attr("size").cast<std::size_t>() == 0) return {};
  const std::string kind = given.attr("dtype").attr("kind").cast<std::string>();
  if (kind != "i" && kind != "u") throw py::type_error("token ids must be integers, got an array of " +
                                                       py::str(given.attr("dtype")).cast<std::string>());
  if (given.attr("ndim").cast<int>() != 1) throw py::value_error("token ids must be one-dimensional");
  const py::buffer array = np.attr("ascontiguousarray")(given, py::arg("dtype") = "int64");
  const py::buffer_info info = array.request();
  const auto* data = static_cast<const std::int64_t*>(info.ptr);
  Tokens out;
  out.reserve(static_cast<std::size_t>(info.size));
  for (py::ssize_t i = 0; i < info.size; ++i) {
    if (data[i] < 0 || data[i] >= vocab)
      throw py::value_error("token id " + std::to_string(data[i]) + " is outside the vocabulary [0, " +
                            std::to_string(vocab) + ")");
    out.push_back(static_cast<data::Token>(data[i]));
  }
  return out;
}

// A NumPy array of `dtype` holding a copy of the values.
template <class T>
py::object to_numpy(const std::vector<T>& values, const char* dtype) {
  const py::bytes bytes(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  return numpy().attr("frombuffer")(bytes, py::arg("dtype") = dtype).attr("copy")();
}

py::object to_array(const std::vector<std::int32_t>& tokens) { return to_numpy(tokens, "int32"); }

// A continuation's log-likelihood, token count and whether each token is the argmax.
struct Scored {
  double sum = 0;
  std::int64_t tokens = 0;
  bool greedy = true;
};

// The log-likelihoods of `continuations` after one prefix: one forward pass over one row
// per continuation (apps::choice_rows when nothing is read causally before them, which is
// choice_eval's scoring; with `causal`, those rows with the causal tokens' targets
// ignored). `greedy`: also whether every continuation token is the argmax of its logits.
std::vector<Scored> score_group(const model::LanguageModel& lm, const Tokens& prefix, const Tokens& causal,
                                const std::vector<Tokens>& continuations, bool greedy) {
  std::vector<Tokens> labels;
  for (const Tokens& c : continuations) {
    Tokens label = causal;
    label.insert(label.end(), c.begin(), c.end());
    labels.push_back(std::move(label));
  }
  objectives::PackedBatch rows = apps::choice_rows(prefix, labels);  // checks every label has tokens
  // Targets of the causal start: read, not scored. The first label target sits at <sg>,
  // position |prefix|.
  for (int r = 0; r < rows.rows; ++r)
    for (std::size_t i = 0; i < causal.size(); ++i)
      rows.targets[rows.at(r, static_cast<int>(prefix.size() + i))] = objectives::ignore_target;
  std::vector<Scored> out(continuations.size());
  if (causal.empty() && !greedy) {
    // Exactly choice_eval's path.
    const auto losses = apps::score_choices(lm, prefix, labels);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = {-losses[i].sum, losses[i].tokens, true};
    return out;
  }
  const objectives::BatchTensors host = objectives::to_tensors(rows);
  const Device device = lm.device();
  autograd::NoGradGuard no_grad;
  autograd::CrossEntropyOptions options;
  options.counted = std::count_if(rows.targets.begin(), rows.targets.end(),
                                  [](std::int32_t t) { return t != objectives::ignore_target; });
  if (options.counted == 0) return out;
  // LanguageModel::loss's computation, keeping the logits for the greedy flags.
  const Tensor logits = lm.logits(host.tokens.to(device), host.reset.to(device));
  const autograd::CrossEntropy ce = autograd::cross_entropy(logits, host.targets.to(device).reshape({-1}), options);
  const std::vector<double> per_position = ce.row_loss.to_vector<double>();
  for (int r = 0; r < rows.rows; ++r) {
    Scored& s = out[static_cast<std::size_t>(r)];
    // The continuation's targets sit at positions |prefix| + |causal| … |prefix| + |label| − 1.
    const int first = static_cast<int>(prefix.size() + causal.size());
    const int end = static_cast<int>(prefix.size() + labels[static_cast<std::size_t>(r)].size());
    for (int t = first; t < end; ++t) {
      s.sum -= per_position[rows.at(r, t)];
      s.tokens += 1;
    }
    if (!greedy) continue;
    // Only the continuation's logits come back to the host.
    const std::vector<float> host_logits = logits.slice(static_cast<std::int64_t>(rows.at(r, first)),
                                                        static_cast<std::int64_t>(rows.at(r, end - 1)) + 1)
                                               .to(Device::cpu)
                                               .to_vector<float>();
    const std::size_t vocab = host_logits.size() / static_cast<std::size_t>(end - first);
    for (int t = first; t < end; ++t) {
      const float* row = host_logits.data() + static_cast<std::size_t>(t - first) * vocab;
      const auto best = std::max_element(row, row + vocab) - row;
      if (best != rows.targets[rows.at(r, t)]) s.greedy = false;
    }
  }
  return out;
}

struct Model {
  std::shared_ptr<apps::TrainedModel> trained;
  int context = 0;

  const model::LanguageModel& lm() const { return *trained->lm; }

  py::tuple loglikelihood(const py::list& prefixes, const py::list& continuations, const std::string& mode,
                          bool greedy) const {
    if (prefixes.size() != continuations.size())
      throw py::value_error("loglikelihood: " + std::to_string(prefixes.size()) + " contexts and " +
                            std::to_string(continuations.size()) + " continuations");
    const std::optional<data::Token> paradigm = apps::mode_token(mode);
    std::vector<Tokens> prefix_tokens, continuation_tokens;
    for (std::size_t i = 0; i < prefixes.size(); ++i) {
      prefix_tokens.push_back(to_tokens(prefixes[i], lm().config().vocab));
      continuation_tokens.push_back(to_tokens(continuations[i], lm().config().vocab));
      if (continuation_tokens.back().empty())
        throw py::value_error("loglikelihood: continuation " + std::to_string(i) + " has no tokens");
    }
    const std::size_t n = prefix_tokens.size();
    std::vector<double> sums(n);
    std::vector<std::int64_t> counts(n);
    std::vector<std::uint8_t> greedy_flags(n);
    {
      py::gil_scoped_release release;
      // Pairs with the same context go through the model together, one row each (as
      // choice_eval scores the choices of an item).
      std::map<Tokens, std::vector<std::size_t>> groups;
      std::vector<const Tokens*> order;
      for (std::size_t i = 0; i < n; ++i) {
        auto [it, inserted] = groups.try_emplace(prefix_tokens[i]);
        if (inserted) order.push_back(&it->first);
        it->second.push_back(i);
      }
      for (const Tokens* key : order) {
        const std::vector<std::size_t>& members = groups.at(*key);
        const model::GenerationRequest request = apps::generation_request(*key, paradigm);
        std::vector<Tokens> group;
        for (std::size_t i : members) group.push_back(continuation_tokens[i]);
        const auto scored = score_group(lm(), request.prompt, request.answer_start, group, greedy);
        for (std::size_t k = 0; k < members.size(); ++k) {
          sums[members[k]] = scored[k].sum;
          counts[members[k]] = scored[k].tokens;
          greedy_flags[members[k]] = scored[k].greedy ? 1 : 0;
        }
      }
    }
    return py::make_tuple(to_numpy(sums, "float64"), to_numpy(counts, "int64"), to_numpy(greedy_flags, "bool"));
  }

  py::object generate(const py::handle& text_tokens, std::int64_t max_tokens, double temperature, std::int64_t top_k,
                      double top_p, std::uint64_t seed, const std::string& mode,
                      std::optional<std::int32_t> stop_token) const {
    if (temperature < 0) throw py::value_error("temperature must be non-negative");
    if (top_k < 0) throw py::value_error("top_k must be non-negative");
    if (!(top_p > 0 && top_p <= 1)) throw py::value_error("top_p must be in (0, 1]");
    if (max_tokens < 0) throw py::value_error("max_tokens must be non-negative");
    const Tokens text = to_tokens(text_tokens, lm().config().vocab);
    const model::GenerationRequest request = apps::generation_request(text, apps::mode_token(mode));
    model::SamplingOptions options;
    options.max_new_tokens = max_tokens;
    options.temperature = temperature;
    options.top_k = top_k;
    options.top_p = top_p;
    options.seed = seed;
    options.eos = data::special_tokens::eos;
    options.stop_token = stop_token;
    std::vector<std::int32_t> out;
    {
      py::gil_scoped_release release;
      out = model::generate(lm(), request.prompt, data::special_tokens::start_generating, options,
                            request.answer_start);
    }
    if (!out.empty() && out.back() == options.eos) out.pop_back();
    return to_array(out);
  }

  // phonebook_eval's scoring of one case: the greedy answer after prompt ‖ <sg>, at most
  // the answer's tokens + 8, its text without reserved tokens, and its digit accuracy.
  py::dict phonebook_case(const std::string& prompt, const std::string& answer) const {
    const Tokens tokens = trained->tokenizer.encode(prompt);
    const auto limit = std::int64_t(trained->tokenizer.encode(answer).size()) + 8;
    std::vector<data::Token> out;
    {
      py::gil_scoped_release release;
      out = training::greedy_answer(lm(), tokens, limit);
    }
    const std::string generated = trained->tokenizer.decode_text(out);
    py::dict d;
    d["prompt_tokens"] = tokens.size();
    d["answer"] = answer;
    d["generated"] = generated;
    d["generated_raw"] = trained->tokenizer.decode(out);
    d["digit_accuracy"] = data::tasks::digit_accuracy(answer, generated);
    return d;
  }
};

std::shared_ptr<data::Tokenizer> tokenizer_of(const Model& m) {
  return std::shared_ptr<data::Tokenizer>(m.trained, &m.trained->tokenizer);
}

}  // namespace

PYBIND11_MODULE(_engine, m) {
  m.doc() = "The birdie engine: trained models, their tokenizer, scoring and generation";
  py::register_exception<Error>(m, "Error", PyExc_RuntimeError);

  m.def("built_with_cuda", &built_with_cuda, "Whether the engine was built with its CUDA backend");
  m.def("symbol", &data::special_tokens::symbol, py::arg("id"), "The reserved symbol of id (\"<eos>\", \"<sg>\", ...)");
  py::dict reserved;
  for (data::Token id = 0; id < data::special_tokens::reserved_count; ++id)
    reserved[py::str(data::special_tokens::symbol(id))] = id;
  m.attr("reserved_tokens") = reserved;
  m.attr("reserved_count") = data::special_tokens::reserved_count;
  m.attr("modes") = apps::generation_modes;
  m.def(
      "mode_token",
      [](const std::string& mode) { return apps::mode_token(mode); }, py::arg("mode"),
      "The paradigm token of a generation mode (None for \"none\")");

  py::class_<data::Tokenizer, std::shared_ptr<data::Tokenizer>>(m, "Tokenizer")
      .def_static(
          "load",
          [](const std::filesystem::path& path) {
            return std::make_shared<data::Tokenizer>(data::Tokenizer::load(path));
          },
          py::arg("path"))
      .def(
          "encode", [](const data::Tokenizer& t, const std::string& text) { return to_array(t.encode(text)); },
          py::arg("text"))
      .def(
          "decode",
          [](const data::Tokenizer& t, const py::handle& ids) { return t.decode(to_tokens(ids, t.vocab_size())); },
          py::arg("ids"), "The text of the ids, reserved symbols included")
      .def(
          "decode_text",
          [](const data::Tokenizer& t, const py::handle& ids) {
            return t.decode_text(to_tokens(ids, t.vocab_size()));
          },
          py::arg("ids"), "The text alone: reserved ids left out")
      .def(
          "piece",
          [](const data::Tokenizer& t, data::Token id) {
            if (id < 0 || id >= t.vocab_size()) throw py::value_error("token id " + std::to_string(id) + " is outside the vocabulary");
            return t.piece(id);
          },
          py::arg("id"))
      .def_property_readonly("vocab_size", &data::Tokenizer::vocab_size)
      .def_property_readonly("path", [](const data::Tokenizer& t) { return t.path(); });

  py::class_<Model>(m, "Model")
      .def(py::init([](const std::filesystem::path& checkpoint, const std::string& device,
                       std::optional<std::filesystem::path> tokenizer, const std::string& precision, int context) {
             Model model;
             model.trained = std::make_shared<apps::TrainedModel>(
                 apps::load_trained_model(checkpoint, tokenizer, parse_device(device), precision));
             model.context = context > 0 ? context : model.trained->context;
             return model;
           }),
           py::arg("checkpoint"), py::arg("device") = "cpu", py::arg("tokenizer") = py::none(),
           py::arg("precision") = "auto", py::arg("context") = 0)
      .def_property_readonly("checkpoint", [](const Model& m) { return m.trained->checkpoint; })
      .def_property_readonly("run_folder", [](const Model& m) { return m.trained->run_folder; })
      .def_property_readonly("context", [](const Model& m) { return m.context; })
      .def_property_readonly("device", [](const Model& m) { return std::string(device_name(m.lm().device())); })
      .def_property_readonly("vocab_size", [](const Model& m) { return m.lm().config().vocab; })
      .def_property_readonly("tokenizer", &tokenizer_of)
      .def("loglikelihood", &Model::loglikelihood, py::arg("contexts"), py::arg("continuations"),
           py::arg("mode") = "none", py::arg("greedy") = false)
      .def("generate", &Model::generate, py::arg("tokens"), py::arg("max_tokens") = 64, py::arg("temperature") = 0.0,
           py::arg("top_k") = 0, py::arg("top_p") = 1.0, py::arg("seed") = 0, py::arg("mode") = "ntp",
           py::arg("stop_token") = py::none())
      .def("phonebook_case", &Model::phonebook_case, py::arg("prompt"), py::arg("answer"));

  m.def(
      "phone_book",
      [](int entries, int queries, std::uint64_t seed, std::uint64_t stream) {
        const auto book = data::tasks::make_phone_book(entries, queries, seed, stream);
        return py::make_tuple(book.prompt(), book.answer());
      },
      py::arg("entries"), py::arg("queries"), py::arg("seed"), py::arg("stream") = 0,
      "A generated phone book (phonebook_eval's): (prompt, answer)");
  m.def("digit_accuracy", &data::tasks::digit_accuracy, py::arg("expected"), py::arg("generated"));
  m.def(
      "qa_prompt",
      [](const std::string& context, const std::string& question) {
        data::tasks::QaItem item;
        item.context = context;
        item.question = question;
        return data::tasks::qa_prompt(item);
      },
      py::arg("context"), py::arg("question"), "qa_eval's prompt");
  m.def(
      "score_answer",
      [](const std::string& prediction, const std::vector<std::string>& answers) {
        const auto s = data::tasks::score_answer(prediction, answers);
        py::dict d;
        d["contains"] = s.contains ? 1.0 : 0.0;
        d["exact"] = s.exact ? 1.0 : 0.0;
        d["f1"] = s.f1;
        return d;
      },
      py::arg("prediction"), py::arg("answers"), "qa_eval's SQuAD-style scores of one answer");
}
