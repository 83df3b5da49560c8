#!/usr/bin/env python3
"""with_model.py RUN_CONFIG MODEL_CONFIG OUT: the run config with its [model] table replaced
by the model config's (configs/model/*.toml), written to OUT. How gpu_check trains another
architecture with a run config written for the Gated SSM."""
import re
import sys

if len(sys.argv) != 4:
    sys.exit(__doc__)
run, model = (open(p).read() for p in sys.argv[1:3])
table = re.search(r"^\[model\]\n.*?(?=^\[|\Z)", model, re.S | re.M)
if not table:
    sys.exit(f"with_model.py: {sys.argv[2]} has no [model] table")
spliced, count = re.subn(r"^\[model\]\n.*?(?=^\[|\Z)", table.group(0).rstrip("\n") + "\n\n", run, count=1,
                         flags=re.S | re.M)
if count != 1:
    sys.exit(f"with_model.py: {sys.argv[1]} has no [model] table")
open(sys.argv[3], "w").write(spliced)
