"""Sections 1.2–1.9 of the chapter, implemented from the book's equations in NumPy.

One module per topic; each function returns the numbers a section prints and a figure draws
(``dlbook figures`` plots these same return values, it has no second implementation):

=================  ==========================================================================
module             book section
=================  ==========================================================================
perceptron         1.2  dense layer z = Wx + b (1.1–1.6), step output (1.3), decision
                        boundaries, the perceptron learning rule
logic_gates        1.3  AND/OR/NAND/NOR, why no perceptron computes XOR/XNOR, the XOR MLP
activations        1.4  sigmoid, tanh, ReLU, leaky ReLU, PReLU, softmax and their derivatives
losses             1.5  KL divergence, cross-entropy, Lp norm and Lp loss, MSE, MAE (1.13–1.20)
backprop           1.6.1 an MSE + sigmoid MLP with hand-written backpropagation
optimizers         1.6  gradient descent paths, mini-batch SGD (Alg. 1.1), Adam (Alg. 1.2)
validation         1.6  train/validation/test split, k-fold cross-validation, polynomial fits
regularization     1.7  L1/L2 weight decay (1.23), dropout, batch norm, early stopping,
                        image augmentation
conv               1.8  output size (1.24), convolution and pooling by hand, parameter counts
rnn                1.9  simple RNN (1.25, linear as printed) and its tanh form, LSTM (1.26),
                        GRU cells; gradients through time
=================  ==========================================================================

These modules use NumPy only (float64), so they import fast; the tests check every formula
against TensorFlow's own ops and layers, or against finite differences.
"""
