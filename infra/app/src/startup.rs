//! A function that cannot start says why in one line, the same way in every function: the setting
//! (its environment variable) and what is wrong with it. Operators read it in the function's log
//! next to the runtime's own init error, so it must name the variable to fix, not a Rust type.

use crate::settings::ConfigError;

/// A setting a function cannot start with, named by its environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct StartupError {
    /// The environment variable to set or fix, e.g. `DELTAONE_VERDICT_TABLE`.
    pub variable: String,
    /// What is wrong with it, e.g. `is not set: the function records verdicts in DynamoDB`.
    pub problem: String,
}

impl StartupError {
    pub fn new(variable: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { variable: variable.into(), problem: problem.into() }
    }
}

impl From<ConfigError> for StartupError {
    fn from(e: ConfigError) -> Self {
        Self::new(e.env, e.message)
    }
}

/// The one line a function prints when it cannot start: `<function> cannot start: <VARIABLE>: <problem>`
/// (line breaks inside the problem are flattened, so a log shows it whole).
pub fn line(function: &str, error: &StartupError) -> String {
    let text = format!("{function} cannot start: {error}");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Prints [`line`] to standard error and exits with status 1 (what a function's `main` does with a
/// bad configuration; the Lambda runtime then reports an init error).
pub fn exit(function: &str, error: &StartupError) -> ! {
    eprintln!("{}", line(function, error));
    std::process::exit(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_the_function_the_variable_and_the_problem_on_one_line() {
        let error = StartupError::new("DELTAONE_VERDICT_TABLE", "is not set:\n  verdicts are recorded in DynamoDB");
        assert_eq!(
            line("evaluation", &error),
            "evaluation cannot start: DELTAONE_VERDICT_TABLE: is not set: verdicts are recorded in DynamoDB"
        );
    }
}
