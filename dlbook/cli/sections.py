"""The chapter's sections in book order (number, module, titles, figures), shared by the CLI, notebooks and site."""
from collections import namedtuple

Section = namedtuple("Section", "number module title title_zh figures")

SECTION_LIST = [
    Section("1.2", "s1_02_perceptron", "Perceptron: dense layer, bias and decision boundary",
            "1.2 感知器", ("fig1_03_decision_boundaries",)),
    Section("1.3", "s1_03_logic_gates", "Multilayer perceptron: logic gates and XOR",
            "1.3 多层感知器", ("fig1_06_logic_gates", "fig1_07_xor_mlp")),
    Section("1.4", "s1_04_activations", "Activation functions",
            "1.4 激活函数", ("fig1_08_activations",)),
    Section("1.5", "s1_05_losses", "Loss functions",
            "1.5 损失函数", ()),
    Section("1.6", "s1_06_optimization", "Optimization: backprop, SGD, Adam, validation",
            "1.6 优化", ("fig1_09_gradient_descent", "fig1_10_learning_rate", "fig1_11_cross_validation")),
    Section("1.7", "s1_07_regularization", "Regularization",
            "1.7 正则化", ("fig1_12_overfitting", "fig1_13_l1_l2", "fig1_16_early_stopping")),
    Section("1.8", "s1_08_cnn", "Convolutional neural networks",
            "1.8 卷积神经网络", ("fig1_19_pooling",)),
    Section("1.9", "s1_09_rnn", "Recurrent neural networks",
            "1.9 循环神经网络", ()),
    Section("1.10.1", "s1_10_1_tensors", "Tensors and tf.GradientTape (Listings 1.1, 1.2)",
            "1.10.1 张量和梯度", ()),
    Section("1.10.2", "s1_10_2_models", "Static and dynamic models (Listings 1.3, 1.4)",
            "1.10.2 定义模型", ()),
    Section("1.10.3", "s1_10_3_lambda", "Lambda layers",
            "1.10.3 自定义层", ()),
    Section("1.10.4", "s1_10_4_mnist_mlp", "MLP on MNIST",
            "1.10.4 多层感知器：MNIST 数据集上的图像分类", ()),
    Section("1.10.5", "s1_10_5_cifar10_cnn", "BatchNorm CNN on CIFAR-10",
            "1.10.5 卷积神经网络：CIFAR-10 数据集上的图像分类", ()),
    Section("1.10.6", "s1_10_6_chatbot", "GRU Seq2seq chatbot",
            "1.10.6 序列到序列模型：聊天机器人", ()),
]

#: (section, module under chapters.ch01, title) in book order, as ``dlbook list`` shows them.
SECTIONS = [(s.number, s.module, s.title) for s in SECTION_LIST]
SECTION_MODULES = {s.number: f"chapters.ch01.{s.module}" for s in SECTION_LIST}
BY_NUMBER = {s.number: s for s in SECTION_LIST}
