"""Bad scenarios: one line naming the file, the line and the key; exit 2; no traceback."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from datagen.errors import InputError
from datagen.scenarios.loader import load_scenario
from datagen.scenarios.populate import prepare


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def error_line(run, path: Path) -> str:
    result = run("populate", path, "--dry-run")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output.strip().splitlines()[-1]


CASES = {
    "unknown provider": (
        """
        entities:
          org: {count: 3}
          spaceship: {count: 3}
        """,
        "Error: {f}:3: entities.spaceship: unknown document provider 'spaceship'; known: ",
    ),
    "distribution missing a parameter": (
        """
        entities:
          org: {count: 3}
          user:
            per: org
            distribution:
              type: lognormal
              mu: 1.5
        """,
        "Error: {f}:5: entities.user.distribution: 'sigma' is a required property",
    ),
    "unknown distribution": (
        """
        entities:
          org: {count: 3}
          user:
            per: org
            distribution: {type: pareto, a: 2}
        """,
        "Error: {f}:5: entities.user.distribution.type: 'pareto' is not one of",
    ),
    "reference to an entity not defined": (
        """
        entities:
          org: {count: 3}
          job:
            count: 5
            references:
              engine_id: engine
        """,
        "Error: {f}:6: entities.job.references.engine_id: entity 'engine' is not defined",
    ),
    "per an entity not defined": (
        """
        entities:
          user:
            per: org
            distribution: {type: fixed, value: 2}
        """,
        "Error: {f}:2: entities.user: 'per: org' names an entity that is not defined",
    ),
    "unknown key": (
        """
        entities:
          org:
            count: 3
            colour: red
        """,
        "Error: {f}:4: entities.org.colour: unknown key; expected one of: count, distribution",
    ),
    "count and per together": (
        """
        entities:
          org: {count: 3}
          user: {count: 3, per: org, distribution: {type: fixed, value: 1}}
        """,
        "Error: {f}:3: entities.user: give either 'count' or 'per'",
    ),
    "invalid YAML": (
        """
        entities:
          org: {count: [3}
        """,
        "Error: {f}:2: invalid YAML: ",
    ),
    "unknown field": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            colour: red
        """,
        "Error: {f}:5: fields.org.colour: 'org' has no field 'colour'; fields: id, name",
    ),
    "template with an unknown name": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            name: {template: "org-{nope}"}
        """,
        "Error: {f}:5: fields.org.name: template 'org-{{nope}}' uses {{nope}}, which is not",
    ),
    "written before what they refer to": (
        """
        entities:
          pipeline: {count: 3, references: {created_by: user}}
          user: {count: 3}
          org: {count: 1}
        """,
        "",
    ),
    "lookup matching nothing": (
        """
        records:
          org:
            - {name: Acme}
          user:
            - {username: alice, org: {name: Globex}}
        """,
        "Error: {f}:5: records.user[0].org: user record #1 (username='alice'): "
        "no 'org' record has name='Globex'",
    ),
    "lookup matching two": (
        """
        records:
          org:
            - {name: Acme}
            - {name: Acme}
          user:
            - {username: alice, org: {name: Acme}}
        """,
        "Error: {f}:6: records.user[0].org: user record #1 (username='alice'): "
        "2 'org' records have name='Acme'",
    ),
    "record with an unknown field": (
        """
        records:
          org:
            - name: Acme
              colour: red
        """,
        "Error: {f}:4: records.org[0].colour: 'org' has no field 'colour'",
    ),
    "an empty file": ("", "Error: {f} defines no entities: nothing to populate"),
    "a constant key": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            id: fixed-id
        """,
        "Error: {f}:5: fields.org.id: 'id' is the key of 'org': a constant would give rows "
        "the same key (leave it generated, or give a template with {{index}})",
    ),
    "a key drawn from a few values": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            id: {choice: [a, b]}
        """,
        "Error: {f}:5: fields.org.id: 'id' is the key of 'org': a choice would give rows",
    ),
    "a constant of the wrong type": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            seats: lots
        """,
        "Error: {f}:5: fields.org.seats: 'seats' of 'org' is integer; 'lots' is text",
    ),
    "a timestamp given as text": (
        """
        entities:
          org: {count: 3}
        records:
          org:
            - {name: Acme, created_at: "not a date"}
        """,
        "Error: {f}:5: records.org[0].created_at: 'created_at' of 'org' is timestamp; "
        "'not a date' is text (give a UTC time unquoted: {{value: 2024-01-01T00:00:00Z}} "
        "under 'fields:', 2024-01-01T00:00:00Z in a record)",
    ),
    "a weighted choice of the wrong type": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            seats: {weighted: {10: 0.5, many: 0.5}}
        """,
        "Error: {f}:5: fields.org.seats: 'seats' of 'org' is integer; 'many' is text",
    ),
    "an integer beyond 64 bits": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            seats: 99999999999999999999
        """,
        "Error: {f}:5: fields.org.seats: 99999999999999999999 is beyond the 64-bit integers",
    ),
    "a heavy tail without max": (
        """
        entities:
          org: {count: 1000}
          user: {per: org, distribution: {type: zipf, a: 1.01}}
        """,
        "Error: {f}:3: entities.user: ",
    ),
    "a lognormal beyond 64 bits": (
        """
        entities:
          org: {count: 10}
          user: {per: org, distribution: {type: lognormal, mu: 50, sigma: 10}}
        """,
        "Error: {f}:3: entities.user: ",
    ),
    "Mimesis arguments the field does not take": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            billing_email: {mimesis: person.email, args: {bogus: 1}}
        """,
        "Error: {f}:5: fields.org.billing_email: cannot build 'org' rows: TypeError: "
        "Person.email() got an unexpected keyword argument 'bogus'",
    ),
    "Mimesis arguments the field cannot use": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            seats: {mimesis: numeric.integer_number, args: {start: 10, end: 1}}
        """,
        "Error: {f}:5: fields.org.seats: cannot build 'org' rows: ValueError: ",
    ),
    "an override with two kinds": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            plan: {value: FREE, choice: [TEAM]}
        """,
        "Error: {f}:5: fields.org.plan: an override takes exactly one of value, weighted,",
    ),
    "a companion that doesn't go with its kind": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            plan: {value: FREE, days: [1, 2]}
        """,
        "Error: {f}:5: fields.org.plan: 'after' is needed with 'days'",
    ),
    "a unique field overridden without saying whether it stays unique": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            name: {choice: [Acme, Globex]}
        """,
        "Error: {f}:5: fields.org.name: 'name' is unique in 'org': an override must say",
    ),
    "unique with a kind that can't be": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            name: {value: Acme, unique: true}
        """,
        "Error: {f}:5: fields.org.name: 'unique: true' can't go with 'value'",
    ),
    "a unique template that repeats": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            name: {template: "Org of {plan}", unique: true}
        """,
        "Error: {f}:5: fields.org.name: template 'Org of {{plan}}' is not distinct per row",
    ),
    "a template naming no field": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            domain: {template: "{nosuch}.test", unique: true}
        """,
        "Error: {f}:5: fields.org.domain: template '{{nosuch}}.test' uses {{nosuch}}, which is not",
    ),
    "a case on a field that isn't there": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            plan:
              cases:
                - if: {colour: red}
                  value: FREE
        """,
        "Error: {f}:5: fields.org.plan: 'org' has no field 'colour'",
    ),
    "a case on a place among siblings without a parent": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            plan:
              cases:
                - if: {last: true}
                  value: FREE
        """,
        "Error: {f}:5: fields.org.plan: 'last' is a place among siblings: build it 'per' a parent",
    ),
    "after a reference the entity doesn't have": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            created_at: {after: user}
        """,
        "Error: {f}:5: fields.org.created_at: 'user' is not a reference of 'org'; known: none",
    ),
    "a count of an entity that is not a child": (
        """
        entities:
          org: {count: 3}
          user: {count: 5}
        fields:
          org:
            seats: {count: user}
        """,
        "Error: {f}:6: fields.org.seats: 'user' is not an entity built 'per: org'",
    ),
    "in order without a parent": (
        """
        entities:
          org: {count: 3}
        fields:
          org:
            created_at: {in_order: true}
        """,
        "Error: {f}:5: fields.org.created_at: 'in_order' sorts a row among its siblings",
    ),
    "a minimum decided by a place": (
        """
        entities:
          org: {count: 3}
          user:
            per: org
            distribution: {type: fixed, value: 1}
            minimum: {count: 2, if: {last: true}}
        """,
        "Error: {f}:6: entities.user.minimum: 'minimum' is decided by the parent's fields",
    ),
    "a check naming a table the scenario doesn't write": (
        """
        entities:
          org: {count: 3}
        checks:
          bad: SELECT id FROM {users}
        """,
        "Error: {f}:4: checks.bad: {{users}} is not a table of the scenario; tables: org",
    ),
}


@pytest.mark.parametrize("case", [c for c in CASES if CASES[c][1]])
def test_bad_scenarios_name_file_line_and_key(run, tmp_path, case):
    text, expected = CASES[case]
    path = write(tmp_path, "bad.yaml", text)
    assert error_line(run, path).startswith(expected.format(f=path))


@pytest.mark.parametrize("case", ["a heavy tail without max", "a lognormal beyond 64 bits"])
def test_too_many_rows_is_said_before_anything_is_built(run, tmp_path, case):
    path = write(tmp_path, "big.yaml", CASES[case][0])
    line = error_line(run, path)
    assert line.endswith(
        "rows planned, more than 10,000,000,000 "
        "(give its distribution a max, or a smaller count or --scale)"
    )
    rows = line.split("entities.user: ")[1].split()[0]
    assert float(rows) > 1e10  # never a count wrapped to negative


def test_entities_are_planned_after_what_they_refer_to(tmp_path):
    path = write(tmp_path, "ok.yaml", CASES["written before what they refer to"][0])
    assert list(prepare(path, seed=1).entities) == ["org", "user", "pipeline"]


def test_include_cycle_names_the_including_line(run, tmp_path):
    write(tmp_path, "a.yaml", "include: [b.yaml]\n")
    b = write(tmp_path, "b.yaml", "entities: {}\ninclude:\n  - a.yaml\n")
    assert error_line(run, tmp_path / "a.yaml") == (
        f"Error: {b}:3: include[0]: include cycle: a.yaml -> b.yaml -> a.yaml"
    )


def test_missing_include_names_the_line(run, tmp_path):
    path = write(tmp_path, "a.yaml", "include:\n  - other.yaml\n  - gone.yaml\n")
    write(tmp_path, "other.yaml", "")
    assert error_line(run, path).startswith(f"Error: {path}:3: include[1]: no such file")


def test_errors_in_included_files_name_that_file(run, tmp_path):
    top = write(tmp_path, "top.yaml", "include: [part.yaml]\n")
    part = write(tmp_path, "part.yaml", "entities:\n  org:\n    count: -1\n")
    assert error_line(run, top).startswith(f"Error: {part}:3: entities.org.count: -1 is less")


def test_missing_scenario_file(run, tmp_path):
    assert error_line(run, tmp_path / "nope.yaml") == (
        f"Error: no scenario file '{tmp_path / 'nope.yaml'}'"
    )


def test_library_raises_input_error(tmp_path):
    path = write(tmp_path, "bad.yaml", CASES["unknown key"][0])
    with pytest.raises(InputError, match=r"bad.yaml:4"):
        load_scenario(path)
