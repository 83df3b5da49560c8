"""lm_eval's command line with the "birdie" model registered: the same arguments as lm_eval.

    python -m birdie.lm_eval_cli run --model birdie --model_args checkpoint=DIR,device=cuda --tasks arc_easy
"""

import birdie.lm_eval_model  # noqa: F401  (registers the model "birdie")


def main() -> None:
    from lm_eval.__main__ import cli_evaluate

    cli_evaluate()


if __name__ == "__main__":
    main()
