"""What pyproject.toml cannot say: the optional C extension and the packaged schema.

`builder._scan` (builder/_scan.c) runs the batch screens of builder/screens.py, and the
screen of rules.others_may_report, in C. It is optional: where it does not compile, the build
goes on and newsset runs the same screens in numpy and Python.
"""

import shutil
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    """Ship schema/article.schema.json inside the package, where `schema.schema_path` looks for
    it once installed."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "builder" / "data" / "article.schema.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(__file__).parent / "schema" / "article.schema.json", target)


setup(
    ext_modules=[Extension("builder._scan", ["builder/_scan.c"], optional=True)],
    cmdclass={"build_py": BuildPy},
)
