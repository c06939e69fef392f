from fmnist_core.metrics import EpochMetrics, early_stopping_epoch


def history(*accuracies):
    return [EpochMetrics(epoch, 0.0, 0.0, 0.0, accuracy, 1.0, 1.0) for epoch, accuracy in enumerate(accuracies, 1)]


def test_early_stopping_keeps_the_best_epoch_after_patience_runs_out():
    assert early_stopping_epoch(history(0.80, 0.85, 0.84, 0.83, 0.90)) == 2
    assert early_stopping_epoch(history(0.80, 0.85, 0.84, 0.86, 0.85), patience=2) is None
    assert early_stopping_epoch(history(0.80, 0.85, 0.84, 0.86, 0.85, 0.85), patience=2) == 4
    assert early_stopping_epoch(history(0.80, 0.81, 0.82)) is None
    assert early_stopping_epoch([]) is None
