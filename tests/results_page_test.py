"""Tests of experiments.results_page: RESULTS.md's tables rendered from results/."""

import json
import os
import pathlib

import pytest

from experiments import results_page, rows

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _config(seed, steps=1000, layers=4, learning_rate=1e-3):
  return {"data": {"seed": seed, "data_dir": f"/data{seed}", "labels": 100},
          "model": {"decoder": {"num_layers": layers},
                    "phases": {"supervised_learning_rate": learning_rate}},
          "train": {"steps": steps}}


def _write_run(results, recipe, row, seed, errors, config, final=True):
  """A run whose test error was `errors[i]` at step 500 * (i + 1)."""
  directory = results / recipe / row / f"seed{seed}"
  directory.mkdir(parents=True)
  history = [{"step": 500 * (i + 1), "train_seconds": 60.0 * (i + 1),
              "validation": {"error": error, "nll": 90.0}, "test": {"error": error, "nll": 90.0}}
             for i, error in enumerate(errors)]
  record = {"step": history[-1]["step"], "history": history}
  if final:
    record["final"] = {"validation": history[-1]["test"], "test": history[-1]["test"]}
  (directory / "results.json").write_text(json.dumps(record))
  (directory / "config.json").write_text(json.dumps(config))


@pytest.fixture
def results(tmp_path):
  """cpu with an arm (2 layers) and a shorter budget with its own arm; h100; an unfinished seed."""
  root = tmp_path / "results"
  for seed, error in [(0, 0.02), (1, 0.04)]:
    _write_run(root, "cpu", "mnist_100", seed, [0.05, error], _config(seed))
    _write_run(root, "cpu_decoder_2_layers", "mnist_100", seed, [0.06, error + 0.10],
               _config(seed, layers=2))
  _write_run(root, "cpu_decoder_2_layers", "mnist_100", 2, [0.5], _config(2, layers=2),
             final=False)
  _write_run(root, "cpu_short", "mnist_100", 0, [0.30], _config(0, steps=500))
  _write_run(root, "cpu_short_lr_3e-3", "mnist_100", 0, [0.20],
             _config(0, steps=500, learning_rate=3e-3))
  _write_run(root, "h100", "mnist_50", 0, [0.04, 0.03], _config(0))
  return str(root)


def test_machines_are_the_directories_without_a_recipe(results):
  assert results_page.machines(results) == ["cpu", "h100"]


def test_table1_of_a_machine_has_every_row_and_its_seeds(results):
  lines = results_page.render_block(results, "table1 cpu").splitlines()
  assert lines[0].startswith("| row | paper (PixelGAN) | ours | seeds |")
  assert "| MNIST 100 | 1.08 ± 0.15 | 3.00 ± 1.41 | 2 | 1000 |" in "\n".join(lines)
  assert "| MNIST 50 | 1.16 ± 0.17 | not run | 0 |" in "\n".join(lines)
  assert len(lines) == 2 + len(rows.PROTOCOL_ROWS)   # the opt-in rows are not Table 1's
  with pytest.raises(ValueError, match="No machine 'tpu'"):
    results_page.render_block(results, "table1 tpu")


def test_commands_run_each_recorded_row_with_its_recorded_seeds(results):
  # The records ran 1000 steps where the row's preset runs 20k: the command says so.
  assert results_page.render_block(results, "commands cpu").splitlines() == [
      "```sh",
      "python -m experiments.run_table1 --rows=mnist_100 --seeds=0,1 --root=runs/cpu \\",
      "    --extra=--set=train.steps=1000",
      "python -m experiments.aggregate --root=runs/cpu",
      "```"]


def _row_config_as_recorded(seed, **changes):
  """The config.json that a run of mnist_100 as its preset is now would record, changed."""
  flat = {**results_page.row_config("mnist_100"), "data.seed": seed, **changes}
  config = {}
  for field, value in flat.items():
    *parents, name = field.split(".")
    node = config
    for parent in parents:
      node = node.setdefault(parent, {})
    node[name] = value
  return config


def test_records_of_the_row_as_it_is_now_need_no_overrides(tmp_path):
  _write_run(tmp_path, "cpu", "mnist_100", 0, [0.02], _row_config_as_recorded(0))
  assert results_page.record_overrides(str(tmp_path), "cpu", "mnist_100") == []


def test_records_of_an_older_preset_get_the_overrides_that_rerun_them(tmp_path):
  config = _row_config_as_recorded(0, **{"model.decoder.num_layers": 2,
                                         "model.decoder.vertical_kernel_size": [3, 5],
                                         "model.encoder.normalize_logits": False,
                                         "data.data_dir": "/elsewhere"})
  del config["model"]["encoder"]["dropout"]   # a field the records predate: it ran at its default
  _write_run(tmp_path, "cpu", "mnist_100", 0, [0.02], config)
  assert results_page.record_overrides(str(tmp_path), "cpu", "mnist_100") == [
      "--set=model.decoder.num_layers=2", "--set=model.decoder.vertical_kernel_size=3,5",
      "--set=model.encoder.normalize_logits=false"]


def test_a_recorded_field_the_config_no_longer_has_is_refused(tmp_path):
  config = _row_config_as_recorded(0)
  config["model"]["decoder"]["retired_knob"] = 3
  _write_run(tmp_path, "cpu", "mnist_100", 0, [0.02], config)
  with pytest.raises(ValueError, match="model.decoder.retired_knob"):
    results_page.record_overrides(str(tmp_path), "cpu", "mnist_100")


def test_a_recipe_is_compared_with_the_longest_prefix_run_for_the_same_budget(results):
  assert results_page.arms(results) == [
      ("cpu_decoder_2_layers", "mnist_100", "cpu"),
      ("cpu_short_lr_3e-3", "mnist_100", "cpu_short")]
  # cpu_short changes the budget (train.steps), so it is no arm of cpu.
  assert results_page.baseline_of(results, "cpu_short", "mnist_100") is None


def test_the_arms_of_a_baseline_are_those_arms_names(results):
  for baseline, row in [("cpu", "mnist_100"), ("cpu_short", "mnist_100"), ("cpu", "mnist_50"),
                        ("h100", "mnist_50")]:
    assert results_page.arms_of(results, baseline, row) == [
        recipe for recipe, arm_row, base in results_page.arms(results)
        if arm_row == row and base == baseline]
  # cpu_short begins with cpu's name but runs another budget: no arm of cpu.
  assert results_page.arms_of(results, "cpu", "mnist_100") == ["cpu_decoder_2_layers"]


def test_a_prefix_that_ran_none_of_the_recipes_seeds_is_no_baseline(results):
  root = pathlib.Path(results)
  # cpu_decoder_2_layers and cpu finished seeds 0 and 1, cpu_short_lr_3e-3 and cpu_short
  # seed 0: an arm on seed 1 pairs with the first, one on seed 3 with none, and a 500-step
  # arm on seed 1 with none (cpu shares its seed, not its budget).
  _write_run(root, "cpu_decoder_2_layers_lr_3e-3", "mnist_100", 1, [0.03],
             _config(1, layers=2, learning_rate=3e-3))
  _write_run(root, "cpu_decoder_2_layers_labels_of_seed_1", "mnist_100", 3, [0.03],
             _config(3, layers=2))
  _write_run(root, "cpu_short_lr_3e-3_again", "mnist_100", 1, [0.20],
             _config(1, steps=500, learning_rate=3e-3))
  assert results_page.baseline_of(
      results, "cpu_decoder_2_layers_lr_3e-3", "mnist_100") == "cpu_decoder_2_layers"
  assert results_page.baseline_of(
      results, "cpu_decoder_2_layers_labels_of_seed_1", "mnist_100") is None
  assert results_page.baseline_of(results, "cpu_short_lr_3e-3_again", "mnist_100") is None
  assert "none in common" not in results_page.render_block(results, "ablations")


def test_the_knob_is_the_config_difference_without_per_run_fields(results):
  lines = results_page.render_block(results, "ablations").splitlines()
  assert lines[2] == ("| `cpu_decoder_2_layers/mnist_100` | `cpu` | test error | "
                      "`model.decoder.num_layers` | 4 → 2 | 0, 1 | 3.00 ± 1.41 | 13.00 ± 1.41 |")
  assert lines[3] == ("| `cpu_short_lr_3e-3/mnist_100` | `cpu_short` | test error | "
                      "`model.phases.supervised_learning_rate` | 0.001 → 0.003 | 0 | 30.00 | "
                      "20.00 |")
  assert len(lines) == 4


def test_a_field_only_one_config_has_is_a_difference():
  assert results_page.knob({"a": 1, "b": True}, {"a": 1}) == [("b", "true", "absent")]
  assert results_page.knob({"a": [1, 2]}, {"a": [1, 2]}) == []


def test_a_long_list_is_shown_by_its_ends_and_length_and_a_short_one_whole():
  named = list(range(100, 150))
  assert results_page.knob({"a": None}, {"a": named}) == [
      ("a", "null", "[100, 101, 102, …, 149] (50 values)")]
  assert results_page.knob({"a": [1, 2]}, {"a": [1, 3]}) == [("a", "[1, 2]", "[1, 3]")]


def test_a_field_added_since_the_older_record_counts_only_off_its_default_and_shows_it():
  field = "model.encoder.hidden_layers"
  assert results_page.ADDED_FIELDS[field] == 1
  assert results_page.knob({"a": 1}, {"a": 1, field: 1}) == []
  assert results_page.knob({"a": 1}, {"a": 1, field: 2}) == [(field, "1", "2")]
  labels_seed = "data.labels_seed"   # added with None: an older record shows null, as a newer one
  assert results_page.knob({"a": 1}, {"a": 1, labels_seed: 2}) == [(labels_seed, "null", "2")]
  assert (results_page.knob({"a": 1, labels_seed: None}, {"a": 1, labels_seed: 2})
          == [(labels_seed, "null", "2")])


def test_by_step_lists_each_seed_at_each_evaluation(results):
  lines = results_page.render_block(results, "by_step cpu mnist_100").splitlines()
  assert lines[0] == ("| records | knob | baseline → arm | seed 0, step 500 / 1000 | "
                      "seed 1, step 500 / 1000 | mean ± std, step 500 / 1000 | "
                      "test NLL at the end (nats) |")
  assert lines[2] == ("| `cpu/mnist_100` | – (baseline) | – | 5.00 / 2.00 | 5.00 / 4.00 | "
                      "5.00 ± 0.00 / 3.00 ± 1.41 | 90.00 ± 0.00 |")
  assert lines[3].startswith("| `cpu_decoder_2_layers/mnist_100` | `model.decoder.num_layers` | "
                             "4 → 2 | 6.00 / 12.00 | 6.00 / 14.00 |")
  assert len(lines) == 4


def test_by_step_at_chosen_steps_marks_the_missing_ones(results):
  lines = results_page.render_block(results, "by_step cpu mnist_100 1000,1500").splitlines()
  assert lines[0] == ("| records | knob | baseline → arm | seed 0, step 1000 / 1500 | "
                      "seed 1, step 1000 / 1500 | mean ± std, step 1000 / 1500 | "
                      "test NLL at the end (nats) |")
  assert lines[2] == ("| `cpu/mnist_100` | – (baseline) | – | 2.00 / – | 4.00 / – | "
                      "3.00 ± 1.41 / – | 90.00 ± 0.00 |")


def test_at_step_reads_each_recipe_at_one_step_whatever_its_budget(results):
  lines = results_page.render_block(results, "at_step mnist_100 500 cpu cpu_short_lr_3e-3"
                                    ).splitlines()
  assert lines[0] == ("| records | knob against `cpu` | first → this | seed 0, step 500 | "
                      "seed 1, step 500 | test NLL at step 500 (nats) |")
  assert lines[2] == "| `cpu/mnist_100` | – | – | 5.00 | 5.00 | 90.00 ± 0.00 |"
  # The budget (1000 → 500 steps) is no knob; seed 1 did not run.
  assert lines[3] == ("| `cpu_short_lr_3e-3/mnist_100` | `model.phases.supervised_learning_rate` "
                      "| 0.001 → 0.003 | 20.00 | – | 90.00 |")
  assert len(lines) == 4
  assert "| – | – |" in results_page.render_block(
      results, "at_step mnist_100 1500 cpu cpu_decoder_2_layers").splitlines()[3]


def test_at_step_refuses_a_recipe_without_a_finished_run(results):
  with pytest.raises(ValueError, match="'cpu_none' has no finished run of 'mnist_100'"):
    results_page.render_block(results, "at_step mnist_100 500 cpu cpu_none")


def test_paired_compares_each_arm_with_the_baseline_seed_by_seed(results):
  for seed, error in [(0, 0.01), (1, 0.07)]:
    _write_run(pathlib.Path(results), "cpu_lr_3e-3", "mnist_100", seed, [0.05, error],
               _config(seed, learning_rate=3e-3))
  lines = results_page.render_block(
      results, "paired cpu mnist_100 cpu_decoder_2_layers cpu_lr_3e-3").splitlines()
  assert lines[0] == ("| records | knob | baseline → arm | seeds | baseline % | arm % | "
                      "baseline, mean ± std | arm, mean ± std | arm − baseline (points) | "
                      "mean ± std | t | arm lower on |")
  # Seed 2 of the 2-layer arm did not finish, so only seeds 0 and 1 pair; equal
  # differences have no spread, hence no t.
  assert lines[2] == ("| `cpu_decoder_2_layers/mnist_100` | `model.decoder.num_layers` | 4 → 2 | "
                      "0, 1 | 2.00 / 4.00 | 12.00 / 14.00 | 3.00 ± 1.41 | 13.00 ± 1.41 | "
                      "+10.00 / +10.00 | 10.00 ± 0.00 | – | 0 of 2 |")
  assert lines[3].endswith("| 0, 1 | 2.00 / 4.00 | 1.00 / 7.00 | 3.00 ± 1.41 | 4.00 ± 4.24 | "
                           "-1.00 / +3.00 | 1.00 ± 2.83 | +0.5 | 1 of 2 |")
  assert len(lines) == 4


def test_paired_refuses_an_arm_without_a_seed_in_common(results):
  with pytest.raises(ValueError, match="No seed of 'mnist_100' finished under both 'cpu' and "
                                       "'h100'"):
    results_page.render_block(results, "paired cpu mnist_100 h100")
  with pytest.raises(ValueError, match="No finished run of 'mnist_50'"):
    results_page.render_block(results, "paired cpu mnist_50 cpu_short")


def test_the_page_keeps_its_prose_and_rewrites_only_its_blocks(results):
  page = ("# Results\n\nProse *kept*.\n<!-- generated: table1 h100 -->\nold table\n"
          "<!-- end generated -->\nMore prose.\n")
  assert results_page.stale_blocks(page, results) == ["table1 h100"]
  updated = results_page.render_page(page, results)
  assert updated.startswith("# Results\n\nProse *kept*.\n<!-- generated: table1 h100 -->\n| row")
  assert updated.endswith("|\n<!-- end generated -->\nMore prose.\n")
  assert "| MNIST 50 | 1.16 ± 0.17 | 3.00 (one seed) | 1 |" in updated
  assert results_page.stale_blocks(updated, results) == []
  assert results_page.render_page(updated, results) == updated


def test_bad_markers_are_refused(results):
  with pytest.raises(ValueError, match="Unknown generated block 'table2'"):
    results_page.render_page("<!-- generated: table2 -->\n<!-- end generated -->\n", results)
  with pytest.raises(ValueError, match="has no '<!-- end generated -->'"):
    results_page.stale_blocks("<!-- generated: ablations -->\n| a |\n", results)


def test_the_committed_results_page_is_generated_from_the_committed_records():
  with open(os.path.join(ROOT, "RESULTS.md")) as f:
    page = f.read()
  assert "<!-- generated: table1 cpu -->" in page
  stale = results_page.stale_blocks(page, os.path.join(ROOT, "results"))
  assert not stale, f"RESULTS.md is stale in {stale}: run python -m experiments.results_page"


def test_a_diagnostics_block_tabulates_each_recipes_seeds_at_the_steps_asked(results):
  run = os.path.join(results, "cpu", "mnist_100", "seed0")
  records = [{"step": step, "validation/error": 0.5, "validation/separation_error": 0.25}
             for step in (100, 200, 300)]
  with open(os.path.join(run, "diagnostics.jsonl"), "w") as stream:
    stream.write("\n".join(json.dumps(record) for record in records))
  lines = results_page.render_block(results, "diagnostics mnist_100 100,300 cpu").splitlines()
  assert len(lines) == 2 + 2
  assert lines[2].startswith("| cpu | 0 | 100 | 50.0 | 25.0 |")
  assert lines[3].startswith("| cpu | 0 | 300 |")


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
