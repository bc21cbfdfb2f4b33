#pragma once
// Training curves of one or more runs from their metrics.jsonl (train/metrics_log.h):
//   - "loss": the training loss of the progress records (solid) and the validation
//     loss of the evaluations (dashed, a dot per evaluation), by optimizer step;
//   - "learning rate";
//   - one panel per other validation metric (valid_bleu, valid_accuracy, ...), the
//     EMA weights' figures dashed beside them.
// Runs are overlaid, one colour each, labelled by their folder name.
#include <string>
#include <vector>

#include "torchzoo/viz/line_chart.h"

namespace torchzoo::viz {

/// The panels for the runs whose metrics logs are `metrics_paths`, labelled `labels` (one each).
/// A line that is not a JSON object throws naming the file and line; a torn last line (a run
/// killed while writing) is skipped.
std::vector<Panel> run_curve_panels(const std::vector<std::string>& metrics_paths,
                                    const std::vector<std::string>& labels);

/// Draws the curves of the runs in `run_dirs` (each holding metrics.jsonl) into `path` (.png or
/// .svg). Labels are the folders' names (their last path part), made distinct if need be.
///
/// Example:
///   viz::plot_runs({"runs/copy_task", "runs/copy_task_warmup"}, "curves.png");
ChartLayout plot_runs(const std::vector<std::string>& run_dirs, const std::string& path,
                      const ChartOptions& options = ChartOptions());

}  // namespace torchzoo::viz
