// LibTorch's libc10.so and Debian's libsentencepiece.so both export a global
// named FLAGS_minloglevel: a 4-byte int in c10, a 32-byte absl::Flag<int> in
// SentencePiece (google/sentencepiece#944). The dynamic linker binds both
// libraries to one definition, the first in load order. When that is c10's,
// SentencePiece's static constructor builds its Flag over c10's int and the
// 28 bytes after it, which hold the mutex of c10::GetEventSampledHandler: the
// first call of a TorchScript method then waits on that mutex forever.
//
// A definition in the program comes first in the lookup order, so both
// libraries bind to this one, which has room for SentencePiece's Flag. libc10
// touches its FLAGS_minloglevel only in the parser of c10::ParseCommandLineFlags
// (its one reference in libc10.so), which torchzoo never calls.
//
// The torchzoo target's link options declare this symbol undefined
// (data/CMakeLists.txt), so every program that links the static library pulls
// this object in, whatever else it uses.
alignas(64) unsigned char FLAGS_minloglevel[64] = {};
