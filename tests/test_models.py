import numpy as np
import pytest
import torch

import dln
from dln import models


def test_resnet18_has_the_cifar_variants_parameter_count():
    # 11,173,962: the CIFAR ResNet-18 with ten classes (3x3 stem, no max-pooling)
    count = sum(p.numel() for p in models.resnet18(10).parameters())
    assert count == 11_173_962
    # the condensation head 512-1024-1024-10 instead of 512-10
    head = models.resnet18(10, classifier=(1024, 1024), activation="tanh")
    extra = sum(p.numel() for p in head.parameters()) - count
    assert extra == (512 * 1024 + 1024) + (1024 * 1024 + 1024) + (1024 * 10 + 10) - (
        512 * 10 + 10
    )


def test_batched_cnn_equals_separate_models(tmp_path):
    dln.write_cifar10_standin(tmp_path, n_train=24, n_test=8)
    split = dln.load_cifar10(tmp_path)

    def build(k):
        return models.resnet18(
            10, width=2, classifier=(6,), activation="xtanh", n_models=k
        )

    kw = dict(
        epochs=2,
        batch_size=8,
        X_test=split.X_test,
        y_test=split.y_test,
        record_fc_epochs=[0, 2],
        fc_std=0.1,
    )
    seeds = dln.network_seeds(1, 2)
    batch = models.train_classifier(
        build,
        split.X_train,
        split.y_train,
        seeds=seeds,
        lr=[0.05, 0.02],
        weight_decay=[0.0, 0.05],
        **kw,
    )
    for k in range(2):
        alone = models.train_classifier(
            build,
            split.X_train,
            split.y_train,
            seeds=[seeds[k]],
            lr=[0.05, 0.02][k],
            weight_decay=[0.0, 0.05][k],
            **kw,
        )
        np.testing.assert_allclose(alone.train_loss[0], batch.train_loss[k], rtol=1e-10)
        np.testing.assert_allclose(alone.test_loss[0], batch.test_loss[k], rtol=1e-10)
        np.testing.assert_allclose(
            alone.fc_weights[2][0], batch.fc_weights[2][k], rtol=1e-9, atol=1e-12
        )
    assert batch.fc_weights[0].shape == (2, 6, 17)
    assert not np.allclose(batch.fc_weights[0], batch.fc_weights[2])
    # chunk=1 (looped) gives the same as all at once
    looped = models.train_classifier(
        build,
        split.X_train,
        split.y_train,
        seeds=seeds,
        lr=[0.05, 0.02],
        weight_decay=[0.0, 0.05],
        chunk=1,
        **kw,
    )
    np.testing.assert_allclose(looped.test_loss, batch.test_loss, rtol=1e-10)


def test_residual_cnn_learns_digits():
    split = dln.digits(images=True, seed=0)
    res = models.train_classifier(
        lambda k: models.residual_cnn(10, in_channels=1, width=8, n_models=k),
        split.X_train[:600],
        split.y_train[:600],
        seeds=[0, 1],
        epochs=4,
        lr=1e-2,
        optimizer="adam",
        batch_size=32,
        X_test=split.X_test,
        y_test=split.y_test,
        dtype="float32",
    )
    # chance is 10%; over seeds 0-7 four epochs gave 54% to 79%
    assert np.all(res.test_accuracy[:, -1] > 0.4)


def test_init_model_schemes():
    m = models.resnet18(10, width=16, n_models=2)
    models.init_model(m, [0, 1], conv_init="glorot", fc_std=0.5)
    w = m.blocks[0].conv1.weight.detach().numpy()  # (2 * 16, 16, 3, 3)
    assert w.std() == pytest.approx(np.sqrt(2 / (16 * 9 + 16 * 9)), rel=0.05)
    assert m.head[0].weight.detach().numpy().std() == pytest.approx(0.5, rel=0.05)
    models.init_model(m, [0, 1])
    w = m.blocks[0].conv1.weight.detach().numpy()
    assert w.std() == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.05)
    assert np.abs(m.head[0].weight.detach().numpy()).max() <= 1 / np.sqrt(128)
    # network 1 of the pair equals a single network with the same seed
    one = models.resnet18(10, width=16)
    models.init_model(one, [1])
    torch.testing.assert_close(one.stem[0].weight, m.stem[0].weight[16:])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: models.resnet18(0), "num_classes"),
        (lambda: models.resnet18(10, classifier=(0,)), "classifier"),
        (lambda: models.resnet18(10, activation="cosine"), "activation"),
        (lambda: models.residual_cnn(10, blocks=0), "blocks"),
        (lambda: models.init_model(models.resnet18(2, width=2), [0, 1]), "one seed"),
        (lambda: models.init_model(torch.nn.Linear(2, 2), [0]), "model"),
        (
            lambda: models.init_model(models.resnet18(2, width=2), [0], conv_init="x"),
            "conv_init",
        ),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_training_input():
    X = np.zeros((4, 1, 8, 8))
    build = lambda k: models.residual_cnn(3, width=2, n_models=k)  # noqa: E731
    with pytest.raises(ValueError, match="labels"):
        models.train_classifier(
            build, X, np.array([0, 1, 2, 3]), seeds=[0], epochs=1, lr=0.1
        )
    with pytest.raises(ValueError, match="channels"):
        models.train_classifier(
            build, np.zeros((4, 3, 8, 8)), np.zeros(4, int), seeds=[0], epochs=1, lr=0.1
        )
    with pytest.raises(ValueError, match="optimizer"):
        models.train_classifier(
            build, X, np.zeros(4, int), seeds=[0], epochs=1, lr=0.1, optimizer="lbfgs"
        )
    with pytest.raises(ValueError, match="shape"):
        models.train_classifier(
            build, X[0], np.zeros(4, int), seeds=[0], epochs=1, lr=0.1
        )


def test_out_of_memory_falls_back_to_smaller_chunks():
    split = dln.digits(images=True, seed=0)
    X, y = split.X_train[:64], split.y_train[:64]

    def build(k):
        if k > 1:  # a device too small for more than one network at once
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return models.residual_cnn(10, width=2, n_models=k)

    kw = dict(seeds=[0, 1, 2], epochs=1, lr=0.05, batch_size=32)
    res = models.train_classifier(build, X, y, **kw)
    assert res.settings["chunk"] == 1 and np.all(np.isfinite(res.train_loss))
    looped = models.train_classifier(build, X, y, chunk=1, **kw)
    np.testing.assert_array_equal(res.train_loss, looped.train_loss)
    with pytest.raises(RuntimeError, match="out of memory"):
        models.train_classifier(build, X, y, chunk=2, **kw)  # an explicit chunk stays
