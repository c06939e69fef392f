"""`python -m fmnist_core …`: a process of its own (the CLI, or a job's worker), so it may set process-wide
things before torch loads."""
from .process import start_training_process

start_training_process()  # before any module here imports torch: OpenMP fixes its wait policy when it loads

from .cli import main  # noqa: E402
from .console import end_process  # noqa: E402

end_process(main())
