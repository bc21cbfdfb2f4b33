// Sanitizer options built into every instrumented executable (the CLI, the tests,
// the fuzz targets), so that they hold however the program is started: by ctest,
// by a Python test through the CLI, by hand. Compiled only when TORCHZOO_SANITIZE is set.
//
// abort_on_error: a report ends the process with SIGABRT, which every test counts as
// a crash -- never as the "exit 1" of a clear error. allocator_may_return_null: an
// impossible allocation fails as it does under the system allocator (LibTorch then
// throws), instead of ASan stopping the process. The leak suppressions cover
// LibTorch's objects that live until exit on purpose (registries, thread pools), and
// fontconfig's and cairo's font caches (the pictures of viz/ draw text), kept for the
// process's life.

extern "C" const char* __asan_default_options() {
  return "abort_on_error=1:allocator_may_return_null=1:detect_stack_use_after_return=1";
}

extern "C" const char* __ubsan_default_options() { return "abort_on_error=1:print_stacktrace=1"; }

extern "C" const char* __lsan_default_suppressions() {
  return "leak:libtorch_cpu.so\n"
         "leak:libc10.so\n"
         "leak:libgomp.so\n"
         "leak:libfontconfig.so\n"
         "leak:libcairo.so\n"
         "leak:libfreetype.so\n";
}
