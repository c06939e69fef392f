from fmnist_core.metrics import EarlyStop, EpochMetrics, early_stopping


def history(*val_losses, val_accuracies=None):
    accuracies = val_accuracies or [0.9] * len(val_losses)
    return [EpochMetrics(epoch, 0.5, 0.9, loss, accuracy, 1.0, 100.0)
            for epoch, (loss, accuracy) in enumerate(zip(val_losses, accuracies, strict=True), start=1)]


def test_early_stopping_watches_validation_loss_and_keeps_its_lowest_epoch():
    # Keras's EarlyStopping default: monitor val_loss, keep the best weights once `patience` epochs fail to beat it
    assert early_stopping(history(0.40, 0.30, 0.31, 0.32, 0.33, 0.25)) == EarlyStop(kept_epoch=2, stopped_after=5)
    assert early_stopping(history(0.40, 0.30, 0.31, 0.29, 0.30, 0.31), patience=3) is None
    assert early_stopping(history(0.40, 0.30, 0.31, 0.29, 0.30, 0.31, 0.32), patience=3) == EarlyStop(4, 7)
    assert early_stopping(history(0.40, 0.35, 0.30)) is None
    assert early_stopping([]) is None


def test_noisy_accuracy_does_not_stop_training_while_loss_still_falls():
    # The complaint: stopping on a validation-accuracy wobble ("after epoch 3") when the best epoch was 20.
    wobbling = history(0.40, 0.36, 0.34, 0.33, 0.32, 0.31, val_accuracies=[0.85, 0.87, 0.86, 0.86, 0.88, 0.89])
    assert early_stopping(wobbling) is None
