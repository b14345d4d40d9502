"""Four well-known PyTorch programs ported to minigrad (issue 19), at a tiny size.

Each port is the PyTorch program with the imports changed and the images made NHWC; it runs
next to the same program in torch, from the same weights (float64), and the per-step losses
agree within ``LOSS_TOL``. The comments mark the lines that differ from the PyTorch source.
"""
import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons

import minigrad as mg
from minigrad import interop

LOSS_TOL = 2e-6


def same_weights(model, torch_model, input_shape):
    """Copy the torch model's weights into the minigrad model (layouts converted)."""
    model.load_state_dict(interop.state_dict_from_torch(torch_model.state_dict(), model, input_shape))


# ----- 1. PyTorch's "Training a classifier" tutorial net (CIFAR-10 shapes, random data) ----
def tutorial_net(nn, F, flatten):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)
    return Net()


def train_tutorial(lib, net, batches):
    criterion = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    losses = []
    for inputs, labels in batches:
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_tutorial_classifier_port_matches_pytorch():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    data = [(rng.normal(size=(4, 3, 32, 32)), rng.integers(0, 10, 4)) for _ in range(4)]
    theirs = tutorial_net(torch.nn, torch.nn.functional, torch.flatten).double()
    ours = tutorial_net(mg.nn, mg.functional, mg.flatten).double()
    same_weights(ours, theirs, (1, 32, 32, 3))
    expected = train_tutorial(torch, theirs, [(torch.tensor(x), torch.tensor(y)) for x, y in data])
    got = train_tutorial(mg, ours, [(mg.tensor(x.transpose(0, 2, 3, 1)), mg.tensor(y)) for x, y in data])  # NHWC
    np.testing.assert_allclose(got, expected, rtol=0, atol=LOSS_TOL)


# ----- 2. micrograd's moons demo: an MLP, a max-margin loss, SGD by hand under no_grad -----
def moons_mlp(nn):
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))


def train_moons(lib, model, X, y, steps=8):
    losses = []
    for k in range(steps):
        inputs, targets = lib.tensor(X), lib.tensor(y)
        scores = model(inputs).reshape(-1)
        data_loss = (1 + -targets * scores).relu().mean()                  # svm "max-margin" loss
        alpha = 1e-4
        reg_loss = alpha * sum((p * p).sum() for p in model.parameters())
        total_loss = data_loss + reg_loss
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        with lib.no_grad():
            for p in model.parameters():
                p -= learning_rate * p.grad                                # as micrograd's users write it
        losses.append(total_loss.item())
    return losses


def test_micrograd_moons_port_matches_pytorch():
    X, y = make_moons(n_samples=24, noise=0.1, random_state=1)
    y = y * 2 - 1.0
    torch.manual_seed(1)
    theirs = moons_mlp(torch.nn).double()
    ours = moons_mlp(mg.nn).double()
    same_weights(ours, theirs, (1, 2))
    np.testing.assert_allclose(train_moons(mg, ours, X, y), train_moons(torch, theirs, X, y), rtol=0, atol=LOSS_TOL)


# ----- 3. a gradient-debugging session with checkpoints -------------------------------------
def debug_net(nn):
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))


def debug_session(lib, make, x, y, path):
    """Adam for 3 steps with a hook on an activation, retain_grad on the logits and a forward
    hook; save a checkpoint, load it into a fresh model and optimizer, 2 more steps."""
    model = make()
    opt = lib.optim.Adam(model.parameters(), lr=0.01)
    grad_norms, activations, logit_grads, losses = [], [], [], []
    model[1].register_forward_hook(lambda m, args, out: activations.append(float((out * out).sum().item())))

    def step(model, opt):
        hidden = model[1](model[0](x))
        hidden.register_hook(lambda g: grad_norms.append(float((g * g).sum().item())))
        logits = model[3](model[2](hidden))
        logits.retain_grad()
        loss = lib.nn.functional.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        logit_grads.append(np.array(logits.grad.numpy()))
        opt.step()
        losses.append(loss.item())

    for _ in range(3):
        step(model, opt)
    lib.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, path)
    restored = make()
    restored.load_state_dict(lib.load(path)["model"])
    opt2 = lib.optim.Adam(restored.parameters(), lr=0.01)
    opt2.load_state_dict(lib.load(path)["optimizer"])
    for _ in range(2):
        step(restored, opt2)
    return losses, grad_norms, activations, logit_grads


def test_gradient_debugging_port_matches_pytorch(tmp_path):
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(5, 1, 6, 6)), rng.integers(0, 3, 5)
    torch.manual_seed(2)
    reference = debug_net(torch.nn).double()
    initial = {k: v.clone() for k, v in reference.state_dict().items()}

    def make_torch():
        model = debug_net(torch.nn).double()
        model.load_state_dict(initial)
        return model

    def make_ours():
        model = debug_net(mg.nn).double()
        same_weights(model, reference, (1, 6, 6, 1))
        return model

    expected = debug_session(torch, make_torch, torch.tensor(x), torch.tensor(y), tmp_path / "t.pt")
    got = debug_session(mg, make_ours, mg.tensor(x.transpose(0, 2, 3, 1)), mg.tensor(y), tmp_path / "m.npz")
    for ours, theirs in zip(got[:3], expected[:3]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=LOSS_TOL)
    for ours, theirs in zip(got[3], expected[3]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


# ----- 4. a small ResNet: ModuleList of blocks, AdamW, cosine schedule, clipping, smoothing --
def small_resnet(nn):
    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + self.shortcut(x))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([Block(1, 4, 1), Block(4, 8, 2)])
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return self.fc(self.pool(x).flatten(1))
    return ResNet()


def train_resnet(lib, model, batches):
    optimizer = lib.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.05)
    scheduler = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=len(batches))
    criterion = lib.nn.CrossEntropyLoss(label_smoothing=0.1)
    losses = []
    for inputs, labels in batches:
        optimizer.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


def test_small_resnet_port_matches_pytorch():
    rng = np.random.default_rng(4)
    data = [(rng.normal(size=(4, 1, 8, 8)), rng.integers(0, 3, 4)) for _ in range(5)]
    torch.manual_seed(4)
    theirs = small_resnet(torch.nn).double()
    ours = small_resnet(mg.nn).double()
    same_weights(ours, theirs, (1, 8, 8, 1))
    expected = train_resnet(torch, theirs, [(torch.tensor(x), torch.tensor(y)) for x, y in data])
    got = train_resnet(mg, ours, [(mg.tensor(x.transpose(0, 2, 3, 1)), mg.tensor(y)) for x, y in data])
    np.testing.assert_allclose(got, expected, rtol=0, atol=LOSS_TOL)
