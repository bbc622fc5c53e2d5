"""The layers of ARCHITECTURE.md hold: the contracts of pyproject.toml
([tool.importlinter]) are kept, and no module of the project is part of an import
cycle, however the import is written (at the top of a file or inside a function)."""

import textwrap
import tomllib
from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
PACKAGES = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["root_packages"]


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others
    (the strongly connected components of more than one module, or a module that
    imports itself): Tarjan's algorithm, without recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def imports_of(module):
        return iter(sorted(graph.find_modules_directly_imported_by(module)))

    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, imports_of(root))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, imported = work[-1]
            for other in imported:
                if other not in index:
                    index[other] = low[other] = len(index)
                    stack.append(other)
                    on_stack.add(other)
                    work.append(
                        (other, iter(sorted(graph.find_modules_directly_imported_by(other))))
                    )
                    break
                if other in on_stack:
                    low[module] = min(low[module], index[other])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == module:
                            break
                    selfish = graph.direct_import_exists(importer=module, imported=module)
                    if len(group) > 1 or selfish:
                        cycles.append(sorted(group))
    return cycles


def test_the_layer_contracts_are_kept(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True) == 0


def test_no_module_is_part_of_an_import_cycle():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert import_cycles(graph) == []


# --- The checks themselves can fail ---------------------------------------------------


def test_a_cycle_hidden_in_a_function_is_found(tmp_path, monkeypatch):
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "jobs.py").write_text("from cyclic import service\n")
    (package / "service.py").write_text(
        "def start():\n    from cyclic import jobs  # hidden in a function\n"
    )
    (package / "alone.py").write_text("import cyclic.jobs\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("cyclic", cache_dir=None)
    assert import_cycles(graph) == [["cyclic.jobs", "cyclic.service"]]


def test_a_lower_layer_importing_a_higher_one_breaks_a_contract(tmp_path, monkeypatch):
    for package, code in {
        "lowcore": "import highapp.services\n",  # shared plumbing reaching up
        "highapp": "",
    }.items():
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(code)
    (tmp_path / "highapp" / "services.py").write_text("import lowcore\n")
    config = tmp_path / "layers.toml"
    config.write_text(
        textwrap.dedent(
            """
            [tool.importlinter]
            root_packages = ["highapp", "lowcore"]

            [[tool.importlinter.contracts]]
            name = "apps above core"
            type = "layers"
            layers = ["highapp", "lowcore"]
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert lint_imports(config_filename=str(config), no_cache=True, no_logo=True) == 1
