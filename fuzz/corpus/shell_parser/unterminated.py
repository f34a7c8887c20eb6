'abc
"""never closed
