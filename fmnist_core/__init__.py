"""The explorer's core: data, specs, models, training, jobs and storage; no Streamlit."""
from .load import choose_openmp_wait_policy

choose_openmp_wait_policy()  # before any module here imports torch
