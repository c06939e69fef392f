# Classroom server: docker build -t fmnist-explorer . && docker run -p 8501:8501 fmnist-explorer
# With cluster support (Ray, for FMNIST_RAY_ADDRESS): docker build --build-arg CLUSTER=1 -t fmnist-explorer .
# The same image can serve as a cluster node: docker run fmnist-explorer ray start --address=HEAD:6379 --block
FROM python:3.11-slim-bookworm
ARG CLUSTER=0

# The real Fashion-MNIST IDX files from Debian, in /usr/share/datasets/fashion-mnist; a C compiler for the
# C kernels of fmnist_core/kernels, built for the server's own CPU at the first training run.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dataset-fashion-mnist curl gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 explorer
WORKDIR /app
COPY requirements.txt requirements-cluster.txt requirements-postgres.txt ./
# PostgreSQL's driver always (a school's deployment, deploy/compose.yaml, keeps the run store there); Ray on request.
RUN pip install --no-cache-dir -r requirements.txt -r requirements-postgres.txt \
    && if [ "$CLUSTER" = 1 ]; then pip install --no-cache-dir -r requirements-cluster.txt; fi

COPY app.py ./
COPY app_pages ./app_pages
COPY fmnist_core ./fmnist_core
COPY fmnist_ui ./fmnist_ui
COPY locale ./locale
COPY babel.cfg ./
COPY .streamlit ./.streamlit

USER explorer
ENV FMNIST_HOME=/home/explorer/fmnist-explorer \
    FMNIST_NO_DOWNLOAD=1 \
    PYTHONUNBUFFERED=1
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD curl --fail --silent http://127.0.0.1:8501/_stcore/health || exit 1
# The teacher's link goes to the container's log first (`docker logs`); set FMNIST_PUBLIC_URL to the address students
# reach, or the link names the container's own address.
CMD ["sh", "-c", "python -m fmnist_core teacher-link --port 8501 && exec python -m streamlit run app.py --server.port=8501 --server.address=0.0.0.0 --server.headless=true"]
