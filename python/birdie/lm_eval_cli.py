"""lm_eval's command line with the "birdie" model registered: the same arguments as lm_eval.
An installed package needs none of this (its start-up hook registers the model for lm_eval's
own command line, birdie_lm_eval_hook.py); it serves a build folder on PYTHONPATH:

    python -m birdie.lm_eval_cli run --model birdie --model_args checkpoint=DIR,device=cuda --tasks arc_easy
"""

import birdie.lm_eval_model  # noqa: F401  (registers the model "birdie")


def main() -> None:
    from lm_eval.__main__ import cli_evaluate

    cli_evaluate()


if __name__ == "__main__":
    main()
