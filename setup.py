"""Build script for the optional C kernel; all other metadata lives in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "dedup._kernel",
            ["dedup/_kernel.c"],
            extra_compile_args=["-O3"],
            # Without a compiler the install still succeeds and the NumPy path is used.
            optional=True,
        )
    ]
)
