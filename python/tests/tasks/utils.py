"""The birdie_qa task's prompt and scoring: qa_eval's own (data/tasks/qa.h, through the birdie module)."""

import birdie


def qa_text(doc):
    return birdie.qa_prompt(doc["context"], doc["question"])


def qa_target(doc):
    return doc["answers"][0] if doc["answers"] else ""


def qa_scores(doc, results):
    return birdie.score_answer(results[0], list(doc["answers"]))
