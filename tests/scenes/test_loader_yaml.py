"""Scene YAML is parsed by LibYAML when PyYAML has it: the same values as ``yaml.safe_load``, the same errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scenes.loader import BUILTIN_DIR, _safe_load, load_yaml_file
from sim.errors import SceneError

_SCENES = sorted(BUILTIN_DIR.glob("*.yaml")) + sorted((Path(__file__).parents[2] / "examples").rglob("*.yaml"))

_DOCUMENTS = [
    "a: 1\nb: [1, 2.5, -3e-2, .inf, .nan]\n",  # YAML 1.1 floats, as the Python resolver reads them
    "yes_no: [yes, no, on, off, ~, null]\nwhen: 2024-01-02\nhex: 0x1f\noct: 017\nsexagesimal: 1:30\n",
    "anchors: &a {x: 1}\nuse: *a\nmerged: {<<: *a, y: 2}\n",
    "text: |\n  two\n  lines\nfolded: >\n  one\n  line\nquoted: 'it''s'\nunicode: \"\\u00e9\"\n",
    "",
    "- just\n- a list\n",
]


@pytest.mark.parametrize("path", _SCENES, ids=lambda p: p.name)
def test_builtin_and_example_scenes_parse_to_the_same_values(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert _safe_load(text) == yaml.safe_load(text)


@pytest.mark.parametrize("text", _DOCUMENTS)
def test_documents_parse_to_the_same_values(text: str) -> None:
    value = _safe_load(text)
    expected = yaml.safe_load(text)
    assert repr(value) == repr(expected)  # repr: nan != nan


@pytest.mark.parametrize("text", ["name: [unclosed\n", "a: b: c\n", "a:\n\t- tab\n", "!!python/object:os.system x\n"])
def test_invalid_yaml_gives_the_pure_python_parser_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError) as got:
        _safe_load(text)
    assert str(got.value) == str(expected.value)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SceneError, match="not valid YAML"):
        load_yaml_file(path)
