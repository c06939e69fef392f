"""`python -m fmnist_core …`: a process of its own (the CLI, or a job's worker), so it may set process-wide
things before torch loads."""
import sys

from .process import start_training_process

start_training_process()  # before any module here imports torch: OpenMP fixes its wait policy when it loads

from .cli import main  # noqa: E402

sys.exit(main())
