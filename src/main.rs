fn main() -> std::process::ExitCode {
    wecom_journal::cli::main()
}
