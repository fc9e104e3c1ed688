// mimalloc rather than the system allocator: decoding and flattening a batch of journals makes
// and frees millions of small strings, which glibc's malloc handles markedly slower (the flatten
// bench: about 20 % of the whole run, most of it in freeing; docs/benchmarks.md). Polars also
// recommends a global allocator for binaries.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    wecom_journal::cli::main()
}
