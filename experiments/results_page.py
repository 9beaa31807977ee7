r"""Renders the tables of RESULTS.md from the run records in results/.

  python -m experiments.results_page           # rewrites RESULTS.md's generated blocks
  python -m experiments.results_page --check   # exits 1, naming them, if any is stale

RESULTS.md is hand-written prose around generated blocks. A block opens with a
marker that names what it holds and ends with the end marker; only what lies
between them is rewritten:

  <!-- generated: table1 cpu -->
  | row | paper (PixelGAN) | ours | ...
  <!-- end generated -->

What a marker can name:
  table1 MACHINE        Table 1 over results/MACHINE (what experiments.aggregate prints).
  commands MACHINE      the run_table1 command of each row and its seeds recorded there,
                        with the overrides that rerun records of an older preset.
  ablations             every recipe beside its baseline: what differs, the seeds,
                        mean ± std of both.
  by_step BASELINE ROW [STEPS]
                        one row of a baseline recipe and of every recipe beside it,
                        the metric at each evaluation (or at the comma-separated
                        STEPS), per seed and over seeds.
  paired BASELINE ROW ARM...
                        each ARM recipe against the BASELINE recipe on the seeds of ROW
                        both finished: the final test metric per seed, the paired
                        differences, their mean ± std and t, and on how many seeds the
                        arm is lower.
  diagnostics ROW STEPS RECIPE...
                        the code diagnostics (diagnostics.jsonl) of each recipe's seeds
                        of ROW at the comma-separated STEPS (experiments.early_diagnosis).

The records are results/<machine>[_<recipe>]/<row>/seed<S>/{results.json, config.json}.
A machine is a directory without "_" (cpu, h100); `cpu_1k_steps_decoder_2_layers` is a
recipe run on that machine. A recipe's baseline is the longest name among its
"_"-separated prefixes (cpu_1k_steps, then cpu) that holds the same row run for the same
budget on at least one of the same seeds; what the recipe changes is read from
config.json, not from its name.
"""

import json
import os
import re
import statistics
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from absl import app, flags

# The one place that knows the experiment modules: the rows (their columns, metrics and
# order), the Table 1 renderer, a row's learning curve, and which config fields may
# differ between the seeds of one recipe.
from experiments import learning_curves, rows, seed_statistics, table1_markdown as table1

ROWS = rows.ROWS
table1_markdown = table1.markdown_table
learning_curve = learning_curves.learning_curve
flatten_config = seed_statistics.flatten_config
PER_RUN_FIELDS = seed_statistics.PER_RUN_FIELDS
ADDED_FIELDS = seed_statistics.ADDED_FIELDS
collect_row = seed_statistics.collect   # raises if a recipe's seeds were run with other configs

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_RESULTS = flags.DEFINE_string("results", os.path.join(REPOSITORY, "results"),
                               "The records: <machine>[_<recipe>]/<row>/seed<S>/.")
_PAGE = flags.DEFINE_string("page", os.path.join(REPOSITORY, "RESULTS.md"),
                            "The page whose generated blocks to rewrite.")
_CHECK = flags.DEFINE_bool("check", False,
                           "Only check: exit 1, naming the stale blocks, if the page is stale.")

# Fields that size a run rather than change its recipe: two recipes compare only at one budget.
BUDGET_FIELDS = ("train.steps", "train.time_budget_s")

# A marker is a line of its own: the page's prose may quote one.
_BLOCK = re.compile(r"^(<!-- generated: (?P<spec>[^>]*?) -->\n)(?P<body>.*?)"
                    r"^(<!-- end generated -->)$", re.DOTALL | re.MULTILINE)
_OPENING = re.compile(r"^<!-- generated:", re.MULTILINE)


# --- the records ----------------------------------------------------------------------


def machines(results: str) -> List[str]:
  """The machines' directories under `results` (those without a recipe suffix)."""
  return sorted(name for name in os.listdir(results)
                if "_" not in name and os.path.isdir(os.path.join(results, name)))


def recipes(results: str) -> List[str]:
  return sorted(name for name in os.listdir(results) if os.path.isdir(os.path.join(results, name)))


def rows_of(results: str, recipe: str) -> List[str]:
  """The rows recorded for `recipe`, in protocol order."""
  recorded = set(os.listdir(os.path.join(results, recipe)))
  return [row for row in ROWS if row in recorded]


def finished_runs(results: str, recipe: str, row: str) -> Dict[int, str]:
  """{seed: run directory} of the seeds of `row` that have a final result."""
  collect_row(os.path.join(results, recipe), row)
  directory = os.path.join(results, recipe, row)
  runs = {}
  for name in sorted(os.listdir(directory)):
    path = os.path.join(directory, name, "results.json")
    if re.fullmatch(r"seed\d+", name) and os.path.isfile(path) and "final" in _read(path):
      runs[int(name[len("seed"):])] = os.path.join(directory, name)
  return runs


def finished_runs_or_none(results: str, recipe: str, row: str) -> Optional[Dict[int, str]]:
  """`finished_runs`, or None where `recipe` has no finished run of `row`."""
  if not os.path.isdir(os.path.join(results, recipe, row)):
    return None
  return finished_runs(results, recipe, row) or None


def baseline_runs(results: str, baseline: str, row: str) -> Dict[int, str]:
  """`finished_runs` of the recipe a table compares with; refuses an unknown row or none.

  Raises:
    ValueError: `row` is not a protocol row, or `baseline` has no finished run of it.
  """
  if row not in ROWS:
    raise ValueError(f"Unknown row {row!r}; choose from {sorted(ROWS)}.")
  runs = finished_runs_or_none(results, baseline, row)
  if not runs:
    raise ValueError(f"No finished run of {row!r} under {os.path.join(results, baseline)}.")
  return runs


def final_test(run: str, metric: str) -> float:
  """The run's final test `metric` (a rate for the errors, nats for "nll")."""
  return _read(os.path.join(run, "results.json"))["final"]["test"][metric]


def recipe_config(results: str, recipe: str, row: str) -> Dict[str, object]:
  """The flat config.json that the seeds of `row` share (fields that vary per run left out)."""
  return _shared_config(finished_runs(results, recipe, row))


def _shared_config(runs: Dict[int, str]) -> Dict[str, object]:
  """`recipe_config` of the finished `runs` ({seed: run directory}) of one recipe's row."""
  if not runs:
    return {}
  flat = flatten_config(_read(os.path.join(runs[min(runs)], "config.json")))
  return {field: value for field, value in flat.items() if field not in PER_RUN_FIELDS}


def baseline_of(results: str, recipe: str, row: str) -> Optional[str]:
  """The recipe that `recipe` changes for `row`, or None (see the module's docstring)."""
  runs = finished_runs(results, recipe, row)
  config = _shared_config(runs)
  parts = recipe.split("_")
  for length in range(len(parts) - 1, 0, -1):
    candidate = "_".join(parts[:length])
    candidate_runs = finished_runs_or_none(results, candidate, row)
    # A prefix that ran other seeds compares nothing: a crossed-labels arm
    # (..._knob_labels_of_seed_1, seed 0) is no arm of ..._knob (seed 2).
    if not candidate_runs or not set(runs) & set(candidate_runs):
      continue
    other = _shared_config(candidate_runs)
    if all(config.get(field) == other.get(field) for field in BUDGET_FIELDS):
      return candidate
  return None


def knob(baseline: Dict[str, object], arm: Dict[str, object]) -> List[Tuple[str, str, str]]:
  """(field, baseline value, arm value) for each config field in which the two differ.

  A field added since the older record (`ADDED_FIELDS`) that the other
  holds at its default is no difference: the older run behaved as that default,
  and it is shown with that default's value, as a newer record holds it.
  """
  fields = sorted(set(baseline) | set(arm))
  # Each record as it ran: a field it predates holds its added default.
  baseline_run = seed_statistics.with_added_defaults(baseline)
  arm_run = seed_statistics.with_added_defaults(arm)
  return [(field, _value(baseline_run, field), _value(arm_run, field))
          for field in fields if baseline_run.get(field, _ABSENT) != arm_run.get(field, _ABSENT)]


_ABSENT = object()


# A list longer than this (labelled images named one by one) is shown by its ends and its
# length: a table cell of fifty numbers hides the table, and config.json keeps them all.
_LONGEST_LIST_SHOWN = 8


def _value(config: Dict[str, object], field: str) -> str:
  """A field's value as JSON, a long list abbreviated; "absent" where the config lacks it."""
  if field not in config:
    return "absent"
  value = config[field]
  if isinstance(value, list) and len(value) > _LONGEST_LIST_SHOWN:
    ends = ", ".join(json.dumps(item) for item in value[:3])
    return f"[{ends}, …, {json.dumps(value[-1])}] ({len(value)} values)"
  return json.dumps(value)


def _read(path: str) -> dict:
  with open(path) as f:
    return json.load(f)


# --- the tables -----------------------------------------------------------------------


def mean_std(values: Sequence[float]) -> str:
  """Mean ± sample std of `values` (as experiments.aggregate), one value alone, "–" for none."""
  if not values:
    return "–"
  if len(values) == 1:
    return f"{values[0]:.2f}"
  return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def render_table1(results: str, machine: str) -> str:
  """Table 1 over results/<machine>: every protocol row, "not run" where it has no record."""
  if machine not in machines(results):
    raise ValueError(f"No machine {machine!r} under {results}; it has {machines(results)}.")
  return table1_markdown(os.path.join(results, machine), rows.PROTOCOL_ROWS)


def render_commands(results: str, machine: str) -> str:
  """The command that reruns each row recorded for `machine`, with the seeds recorded.

  Where a row's preset changed after its records were made, the command adds the
  `--set` values that make it run as they did (`record_overrides`).
  """
  if machine not in machines(results):
    raise ValueError(f"No machine {machine!r} under {results}; it has {machines(results)}.")
  lines = ["```sh"]
  for row in rows_of(results, machine):
    seeds = ",".join(map(str, sorted(finished_runs(results, machine, row))))
    extras = "".join(f" \\\n    --extra={flag}" for flag in record_overrides(results, machine, row))
    lines.append(f"python -m experiments.run_table1 --rows={row} --seeds={seeds} "
                 f"--root=runs/{machine}{extras}")
  return "\n".join(lines + [f"python -m experiments.aggregate --root=runs/{machine}", "```"])


# Fields that `train.resolve` fills from the data: the preset leaves them unset.
RESOLVED_FIELDS = ("model.image_shape", "model.num_classes", "data.binarize")


def record_overrides(results: str, recipe: str, row: str) -> List[str]:
  """`--set` flags that make `row`, as its preset is now, run as `recipe`'s records of it ran.

  One flag per config field in which the records' config.json differs from the
  row's config today (per-run and data-filled fields aside). A field that the
  records predate counts only where `ADDED_FIELDS` says how they ran without it.

  Raises:
    ValueError: a recorded field that the config no longer has (no flag can set it).
  """
  recorded = seed_statistics.with_added_defaults(
      {field: value for field, value in recipe_config(results, recipe, row).items()
       if field not in RESOLVED_FIELDS})
  current = {field: value for field, value in row_config(row).items()
             if field not in PER_RUN_FIELDS + RESOLVED_FIELDS}
  flags_ = []
  for field, _, _ in knob(current, recorded):
    if field not in recorded:   # added since, with no effect on what the records measured
      continue
    if field not in current:
      raise ValueError(f"{recipe}/{row} records {field}, which the config no longer has: "
                       f"no command reruns it as recorded.")
    flags_.append(f"--set={field}={rows.flag_text(_as_tuples(recorded[field]))}")
  return flags_


def row_config(row: str) -> Dict[str, object]:
  """The flat config that `row` runs today: its preset with its overrides."""
  # Here, not at the top: the package loads TensorFlow, which only the commands block needs.
  from pixelgan_tf import config as config_lib, config_overrides
  config = config_lib.experiment(ROWS[row].preset)
  for path, value in ROWS[row].overrides.items():
    config = config_overrides.override(config, path, value)
  return json.loads(json.dumps(flatten_config(config_lib.to_dict(config))))


def _as_tuples(value):
  """A config.json value with its lists as the tuples the config holds."""
  return tuple(map(_as_tuples, value)) if isinstance(value, list) else value


def arms(results: str) -> List[Tuple[str, str, str]]:
  """(recipe, row, baseline) of every recorded recipe that has a baseline for that row."""
  found = []
  for recipe in recipes(results):
    for row in rows_of(results, recipe):
      baseline = baseline_of(results, recipe, row)
      if baseline is not None:
        found.append((recipe, row, baseline))
  return found


def arms_of(results: str, baseline: str, row: str) -> List[str]:
  """The recipes whose baseline for `row` is `baseline`, in `arms`' order.

  A baseline is a prefix of its arms' names, so only those recipes are read.
  """
  return [recipe for recipe in recipes(results)
          if recipe.startswith(baseline + "_") and row in rows_of(results, recipe)
          and baseline_of(results, recipe, row) == baseline]


def knob_cells(results: str, recipe: str, row: str, baseline: str) -> Tuple[str, str]:
  """The knob's fields and their values (baseline → arm) as two table cells.

  A recipe whose config.json equals its baseline's differs in code only (another commit).
  """
  changes = knob(recipe_config(results, baseline, row), recipe_config(results, recipe, row))
  return _knob_text(changes, no_fields="none in config.json")


def _knob_text(changes: Sequence[Tuple[str, str, str]], no_fields: str) -> Tuple[str, str]:
  """`knob`'s changes as two table cells: the fields, and their values (old → new)."""
  fields = "<br>".join(f"`{field}`" for field, _, _ in changes) or no_fields
  values = "<br>".join(f"{old} → {new}" for _, old, new in changes) or "–"
  return fields, values


def render_ablations(results: str) -> str:
  """One line per recipe beside its baseline, over the seeds that both finished."""
  lines = ["| records | baseline | metric | knob | baseline → arm | seeds | baseline % | arm % |",
           "|---|---|---|---|---|---|---|---|"]
  for recipe, row, baseline in arms(results):
    metric = ROWS[row].metric
    arm_runs = finished_runs(results, recipe, row)
    base_runs = finished_runs(results, baseline, row)
    seeds = sorted(set(arm_runs) & set(base_runs))
    fields, values = knob_cells(results, recipe, row, baseline)
    errors = lambda runs: [100.0 * final_test(runs[seed], metric) for seed in seeds]
    lines.append(
        f"| `{recipe}/{row}` | `{baseline}` | test {metric.replace('_', ' ')} | {fields} | "
        f"{values} | {', '.join(map(str, seeds))} | "
        f"{mean_std(errors(base_runs))} | {mean_std(errors(arm_runs))} |")
  return "\n".join(lines)


def test_curve(run: str, metric: str) -> Dict[int, float]:
  """{step: test `metric` in %} of every evaluation of a run."""
  path = os.path.join(run, "results.json")
  return {step: test for step, _, _, test in learning_curve(path, metric)}


def render_by_step(results: str, baseline: str, row: str,
                   at_steps: Optional[Sequence[int]] = None) -> str:
  """The baseline recipe's `row` and each recipe beside it: the metric at each evaluation.

  Columns: the metric at each evaluated step (or at each of `at_steps`) per seed
  ("–": no finished run of that seed, or no evaluation at that step), then
  mean ± std over the seeds at each step, then the final test NLL.
  """
  baseline_runs(results, baseline, row)
  members = [baseline] + arms_of(results, baseline, row)
  runs = {recipe: finished_runs(results, recipe, row) for recipe in members}
  curves = {recipe: {seed: test_curve(run, ROWS[row].metric) for seed, run in by_seed.items()}
            for recipe, by_seed in runs.items()}
  seeds = sorted({seed for by_seed in runs.values() for seed in by_seed})
  steps = list(at_steps) if at_steps else sorted(
      {step for by_seed in curves.values() for curve in by_seed.values() for step in curve})
  at = " / ".join(map(str, steps))
  header = (["records", "knob", "baseline → arm"] + [f"seed {seed}, step {at}" for seed in seeds]
            + [f"mean ± std, step {at}", "test NLL at the end (nats)"])
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  for recipe in members:
    knob_and_values = (["– (baseline)", "–"] if recipe == baseline
                       else list(knob_cells(results, recipe, row, baseline)))
    by_seed = curves[recipe]
    per_seed = [" / ".join(_at(by_seed[seed], step) for step in steps) if seed in by_seed
                else "–" for seed in seeds]
    per_step = " / ".join(mean_std([curve[step] for curve in by_seed.values() if step in curve])
                          for step in steps)
    nll = mean_std([final_test(run, "nll") for run in runs[recipe].values()])
    cells = [f"`{recipe}/{row}`"] + knob_and_values + per_seed + [per_step, nll]
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


def render_at_step(results: str, row: str, step: int, recipes_: Sequence[str]) -> str:
  """`row`'s metric at one evaluated `step` under each of `recipes_`, whatever their budgets.

  For proxies cut short of their family's budget (500 steps of a 1500-step
  baseline, which evaluated at step 500 too) and for baselines that are
  not the arm's prefix (a crossed `data.labels_seed` pair). The knob is each
  recipe's difference from the first, its budget left out. Columns: the
  metric per seed ("–": no finished run of that seed, or no evaluation at
  `step`), then the mean test NLL at `step`.
  """
  runs = {}
  for recipe in recipes_:
    runs[recipe] = finished_runs_or_none(results, recipe, row)
    if not runs[recipe]:
      raise ValueError(f"{recipe!r} has no finished run of {row!r}.")
  first = recipe_config(results, recipes_[0], row)
  seeds = sorted({seed for by_seed in runs.values() for seed in by_seed})
  header = ["records", f"knob against `{recipes_[0]}`", "first → this"] + [
      f"seed {seed}, step {step}" for seed in seeds] + [f"test NLL at step {step} (nats)"]
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  metric = ROWS[row].metric
  for recipe, by_seed in runs.items():
    config = recipe_config(results, recipe, row)
    changes = [change for change in knob(first, config) if change[0] not in BUDGET_FIELDS]
    tests = {seed: _test_at(run, step) for seed, run in by_seed.items()}
    per_seed = [f"{100.0 * tests[seed][metric]:.2f}" if metric in (tests.get(seed) or {})
                else "–" for seed in seeds]
    nll = mean_std([test["nll"] for test in tests.values() if test and "nll" in test])
    lines.append("| " + " | ".join([f"`{recipe}/{row}`", *_knob_text(changes, no_fields="–")]
                                    + per_seed + [nll]) + " |")
  return "\n".join(lines)


def _test_at(run: str, step: int) -> Optional[Dict[str, float]]:
  """The test metrics a run recorded at `step`, or None where it did not evaluate there."""
  for entry in _read(os.path.join(run, "results.json"))["history"]:
    if entry["step"] == step:
      return entry["test"]
  return None


def _at(curve: Dict[int, float], step: int) -> str:
  return f"{curve[step]:.2f}" if step in curve else "–"


def render_paired(results: str, baseline: str, row: str, arms_: Sequence[str]) -> str:
  """Each of `arms_` against `baseline` on `row`, seed by seed.

  Seeds repeat a run's data, initialization and streams, so the difference on one seed
  is the arm's effect plus the run-to-run noise, and its spread over seeds, unlike the
  spread of either side, measures that noise alone. t is the mean difference over its
  standard error (n - 1 degrees of freedom); "–" for one seed or no spread.
  """
  base_runs = baseline_runs(results, baseline, row)
  metric = ROWS[row].metric
  header = ["records", "knob", "baseline → arm", "seeds", "baseline %", "arm %",
            "baseline, mean ± std", "arm, mean ± std", "arm − baseline (points)",
            "mean ± std", "t", "arm lower on"]
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  for arm in arms_:
    arm_runs = finished_runs_or_none(results, arm, row) or {}
    seeds = sorted(set(base_runs) & set(arm_runs))
    if not seeds:
      raise ValueError(f"No seed of {row!r} finished under both {baseline!r} and {arm!r}.")
    base = [100.0 * final_test(base_runs[seed], metric) for seed in seeds]
    ours = [100.0 * final_test(arm_runs[seed], metric) for seed in seeds]
    differences = [a - b for a, b in zip(ours, base)]
    fields, values = knob_cells(results, arm, row, baseline)
    cells = [f"`{arm}/{row}`", fields, values, ", ".join(map(str, seeds)),
             " / ".join(f"{e:.2f}" for e in base), " / ".join(f"{e:.2f}" for e in ours),
             mean_std(base), mean_std(ours), " / ".join(f"{d:+.2f}" for d in differences),
             mean_std(differences), _t(differences),
             f"{sum(d < 0 for d in differences)} of {len(differences)}"]
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


def _t(differences: Sequence[float]) -> str:
  """The paired t statistic of `differences`, or "–" where it is undefined."""
  spread = statistics.stdev(differences) if len(differences) > 1 else 0.0
  if spread == 0:
    return "–"
  return f"{statistics.mean(differences) / (spread / len(differences) ** 0.5):+.1f}"


def render_block(results: str, spec: str) -> str:
  """The markdown of the generated block whose marker names `spec`."""
  words = spec.split()
  if words[:1] == ["table1"] and len(words) == 2:
    return render_table1(results, words[1])
  if words[:1] == ["commands"] and len(words) == 2:
    return render_commands(results, words[1])
  if words == ["ablations"]:
    return render_ablations(results)
  if words[:1] == ["by_step"] and len(words) in (3, 4):
    at_steps = [int(s) for s in words[3].split(",")] if len(words) == 4 else None
    return render_by_step(results, words[1], words[2], at_steps)
  if words[:1] == ["paired"] and len(words) >= 4:
    return render_paired(results, words[1], words[2], words[3:])
  if words[:1] == ["at_step"] and len(words) >= 4:
    return render_at_step(results, words[1], int(words[2]), words[3:])
  if words[:1] == ["diagnostics"] and len(words) >= 4:
    return render_diagnostics(results, words[1], [int(s) for s in words[2].split(",")],
                              words[3:])
  raise ValueError(f"Unknown generated block {spec!r}: expected 'table1 MACHINE', "
                   f"'commands MACHINE', 'ablations', 'by_step BASELINE ROW [STEPS]', "
                   f"'paired BASELINE ROW ARM...', 'at_step ROW STEP RECIPE...' or "
                   f"'diagnostics ROW STEPS RECIPE...'.")


def render_diagnostics(results: str, row: str, steps: Sequence[int],
                       recipes_: Sequence[str]) -> str:
  """The code diagnostics of `row`'s seeds under each recipe, at `steps`."""
  from experiments import early_diagnosis   # imports TensorFlow: only for this block
  return early_diagnosis.table(
      {recipe: early_diagnosis.read_row(os.path.join(results, recipe, row))
       for recipe in recipes_}, steps)


# --- the page -------------------------------------------------------------------------


def _blocks(text: str) -> List[re.Match]:
  blocks = list(_BLOCK.finditer(text))
  if len(_OPENING.findall(text)) != len(blocks):
    raise ValueError("A '<!-- generated: ... -->' marker has no '<!-- end generated -->'.")
  return blocks


def render_page(text: str, results: str) -> str:
  """`text` with every generated block rewritten from `results`; the prose is kept as is."""
  _blocks(text)
  return _BLOCK.sub(lambda m: m.group(1) + render_block(results, m.group("spec")) + "\n"
                    + m.group(4), text)


def stale_blocks(text: str, results: str) -> List[str]:
  """The specs of the blocks of `text` that differ from what `results` renders."""
  return [m.group("spec") for m in _blocks(text)
          if m.group("body") != render_block(results, m.group("spec")) + "\n"]


def main(argv):
  del argv
  try:
    with open(_PAGE.value) as f:
      text = f.read()
    if _CHECK.value:
      stale = stale_blocks(text, _RESULTS.value)
      if stale:
        sys.exit(f"{_PAGE.value} is stale in {stale}: run python -m experiments.results_page")
      return
    updated = render_page(text, _RESULTS.value)
    if updated != text:
      with open(_PAGE.value, "w") as f:
        f.write(updated)
  except (ValueError, OSError, KeyError) as error:
    sys.exit(f"error: {error}")


if __name__ == "__main__":
  app.run(main)
