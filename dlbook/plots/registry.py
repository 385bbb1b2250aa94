"""The registry of the chapter's computed figures (filled by dlbook.plots.neurons and
dlbook.plots.training) and of the figures drawn from recorded runs (dlbook.plots.results)."""

SEED = 0

#: name -> (book figure number, caption, figure function); filled in book order by @figure.
FIGURES = {}

#: name -> (caption, draw(directory)): figures of recorded training runs; ``dlbook figures``
#: draws each from the JSON files in its directory and skips it, saying so, when there are none.
RESULT_FIGURES = {}


def figure(name, number, caption):
    """Register a figure function under ``name`` (also the PNG's file stem)."""
    def register(func):
        FIGURES[name] = (number, caption, func)
        return func
    return register

