fn main() -> std::process::ExitCode {
    klartext::cli::main()
}
