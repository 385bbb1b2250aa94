"""TensorLayer 2.2.5 on TensorFlow 2.21 / Keras 3 / numpy 2 / h5py 3: the fixes, in one place.

Import TensorLayer through this module (``from dlbook.compat import tl``): the fixes are applied
once, before anything uses TensorLayer. (Being written: see issue 2.)
"""
import dlbook  # noqa: F401  (sets TF_CPP_MIN_LOG_LEVEL before TensorFlow is imported)
import tensorlayer as tl  # noqa: E402
