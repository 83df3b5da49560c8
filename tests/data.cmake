find_package(PkgConfig REQUIRED)
pkg_check_modules(TEST_ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(TEST_SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
find_package(ZLIB REQUIRED)
birdie_test_suite(data_tests
  SOURCES
    data/corpus_reader_tests.cpp
    data/debian_text_tests.cpp
    data/mqar_tests.cpp
    data/multiple_choice_tests.cpp
    data/phonebook_tests.cpp
    data/prepare_corpus_tests.cpp
    data/qa_tests.cpp
    data/token_shard_tests.cpp
    data/tokenizer_tests.cpp
  LIBS birdie_data PkgConfig::TEST_ZSTD PkgConfig::TEST_SENTENCEPIECE ZLIB::ZLIB)
