"""The explorer's core: data, specs, models, training, jobs and storage; no Streamlit. Importing it changes
nothing in the process: the CPU settings of training are made where a training process starts (`__main__`)."""
