"""The perceptron video's closing challenge: a network with two hidden layers, in a few lines.

It learns 3-bit parity, which the single neuron cannot (see xor.py).
"""

import numpy as np

import tinygrad_lite as tl
from tinygrad_lite import data, nn, optim

X, y = data.xor3()
net = nn.Sequential(nn.Linear(3, 6, init="xavier", rng=0), nn.Tanh(),   # hidden layer 1
                    nn.Linear(6, 6, init="xavier", rng=1), nn.Tanh(),   # hidden layer 2
                    nn.Linear(6, 1, init="xavier", rng=2), nn.Sigmoid())
loss_fn, opt = nn.BCE(), optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
for _ in range(2000):
    loss = loss_fn(net(X), y)
    opt.zero_grad()
    loss.backward()
    opt.step()

print(net)
print(f"loss after 2,000 steps: {loss.item():.5f}")
with tl.no_grad():
    out = net(X).data
for bits, target, p in zip(X, y.ravel(), out.ravel()):
    print(f"{bits.astype(int)} -> {p:.3f} (target {target:g})")
print(f"accuracy: {np.mean((out > 0.5) == (y > 0.5)):.0%}")
