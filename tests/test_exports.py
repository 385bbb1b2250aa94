"""Every name a package lists in its lazy export table resolves to a real object."""
import importlib

import pytest


@pytest.mark.parametrize("package", ["dlbook.data", "dlbook.models", "dlbook.chat"])
def test_every_export_resolves(package):
    module = importlib.import_module(package)
    for name in module._EXPORTS:
        assert getattr(module, name) is not None, f"{package}.{name}"
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        module.not_a_name
