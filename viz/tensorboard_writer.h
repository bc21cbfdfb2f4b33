#pragma once
// TensorBoard event files, so that `tensorboard --logdir runs` shows a run's
// curves: scalars by tag and step, written in TensorBoard's format -- TFRecord
// framing (length, masked CRC-32C of the length, the record, masked CRC-32C of
// the record) around protobuf Event messages, encoded here in protobuf's wire
// format (tensorboard_writer.cpp says why not through libprotobuf). The file is named
// events.out.tfevents.<seconds>.<host>, as TensorBoard expects; the first
// record is the file-version event ("brain.Event:2").
//
// Each add_scalars() appends its records to the file and flushes them, so a
// killed run leaves whole records (TensorBoard skips a torn last one).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace torchzoo::viz {

/// Example:
///   viz::TensorBoardWriter tb("runs/copy_task/tensorboard");
///   tb.add_scalars(100, {{"train/loss", 2.31}, {"train/lr", 4e-4}});
class TensorBoardWriter {
 public:
  /// Creates `dir` if need be and a new event file in it; throws std::runtime_error naming it on failure.
  explicit TensorBoardWriter(const std::string& dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  /// One event at `step` holding these (tag, value) scalars; non-finite values are written as they are.
  void add_scalars(int64_t step, const std::vector<std::pair<std::string, double>>& scalars);
  /// The event file's path.
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& data);

  std::string path_;
  int fd_ = -1;
};

/// CRC-32C (Castagnoli) of `data` (exposed for tests: crc32c("123456789") == 0xE3069283).
uint32_t crc32c(std::string_view data);

}  // namespace torchzoo::viz
