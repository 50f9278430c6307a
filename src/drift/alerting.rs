//! Alert hygiene: whether a run's drift pages someone, from the run's column decisions and the
//! model's earlier runs (as the drift table holds them). Pure: the caller reads the history.
//!
//! Per column, newest run first:
//! * **k of n**: a drifted column alerts only when it drifted in at least `k` of the last `n`
//!   runs (this one included), so one odd batch does not page anyone;
//! * **cooldown**: after a column's alert, the same column does not alert again for `cooldown`
//!   seconds of window time unless its severity rises;
//! * **recovered**: the first run in which an alerted column no longer drifts says so.
//!
//! A column that would alert while the dataset as a whole did not drift is held (the message
//! goes out on dataset drift only), and every held column says why.

use serde::{Deserialize, Serialize};

use super::DriftSeverity;

/// The longest run history the rule looks at (`n`), and the runs searched for the last alert.
pub const MAX_ALERT_RUNS: u32 = 20;
/// Default cooldown: one day of window time.
pub const DEFAULT_COOLDOWN_SECS: i64 = 86_400;

/// The alert rule's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRule {
    /// Drifted runs needed among the last `n` (this one included).
    pub k: u32,
    pub n: u32,
    /// Seconds of window time after an alert during which the same column is held unless its
    /// severity rises.
    pub cooldown_secs: i64,
}

impl Default for AlertRule {
    /// Alert on the first drifted run (as before the rule existed), then hold for a day.
    fn default() -> Self {
        Self { k: 1, n: 1, cooldown_secs: DEFAULT_COOLDOWN_SECS }
    }
}

impl AlertRule {
    /// Checks `1 ≤ k ≤ n ≤ MAX_ALERT_RUNS` and a non-negative cooldown, naming what is wrong.
    pub fn validate(&self) -> Result<(), AlertRuleError> {
        if self.k == 0 || self.k > self.n {
            return Err(AlertRuleError::K { k: self.k, n: self.n });
        }
        if self.n > MAX_ALERT_RUNS {
            return Err(AlertRuleError::N { n: self.n });
        }
        if self.cooldown_secs < 0 {
            return Err(AlertRuleError::Cooldown { secs: self.cooldown_secs });
        }
        Ok(())
    }
}

/// What is wrong with an [`AlertRule`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertRuleError {
    #[error("alert k = {k} must be in 1..=n (n = {n})")]
    K { k: u32, n: u32 },
    #[error("alert n = {n} is more than the {MAX_ALERT_RUNS} runs the history holds")]
    N { n: u32 },
    #[error("alert cooldown {secs} s is negative")]
    Cooldown { secs: i64 },
}

/// What a run did about a column (or, for the run, about the dataset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    /// An alert went out.
    Fired,
    /// It drifted, but the rule held the alert back (reason given).
    Held,
    /// An alerted column no longer drifts.
    Recovered,
    /// Nothing to say.
    #[default]
    None,
}

impl AlertAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::Fired => "fired",
            AlertAction::Held => "held",
            AlertAction::Recovered => "recovered",
            AlertAction::None => "none",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output; anything else (an item written before the rule
    /// existed) is `None`.
    pub fn parse(text: &str) -> Self {
        [AlertAction::Fired, AlertAction::Held, AlertAction::Recovered]
            .into_iter()
            .find(|a| a.as_str() == text)
            .unwrap_or_default()
    }
}

/// One earlier run's record of a column.
#[derive(Debug, Clone, PartialEq)]
pub struct PastRun {
    /// The run's window end, in seconds (the cooldown's clock).
    pub at: i64,
    /// The same instant as people read it (RFC 3339), for reasons.
    pub at_label: String,
    pub drifted: bool,
    pub action: AlertAction,
    pub severity: Option<DriftSeverity>,
}

/// A column of this run, decided.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnNow<'a> {
    pub column: &'a str,
    pub drifted: bool,
    pub severity: Option<DriftSeverity>,
    /// Its earlier runs, newest first (at most [`MAX_ALERT_RUNS`] are looked at).
    pub history: &'a [PastRun],
}

/// The rule's decision for one column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnAlert {
    pub column: String,
    pub action: AlertAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<DriftSeverity>,
    /// Why it fired, was held or recovered; empty for `none`.
    pub reason: String,
}

/// The rule's decision for a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunAlert {
    /// `fired` when any column fired; else `recovered` when any recovered; else `held` when any
    /// drifted column was held; else `none`.
    pub action: AlertAction,
    pub reason: String,
    /// Columns with something to say (`none` left out), in the order given.
    pub columns: Vec<ColumnAlert>,
}

impl RunAlert {
    /// Columns with `action`.
    pub fn columns_with(&self, action: AlertAction) -> Vec<String> {
        self.columns.iter().filter(|c| c.action == action).map(|c| c.column.clone()).collect()
    }
}

fn hours(secs: i64) -> String {
    let h = secs as f64 / 3600.0;
    if h.abs() < 10.0 { format!("{h:.1} h") } else { format!("{h:.0} h") }
}

/// Decides a run's alerts. `now` is this run's window end in seconds; `dataset` says whether the
/// dataset drifted and, if not, why (a column alert needs dataset drift to go out).
pub fn decide_alerts(rule: &AlertRule, now: i64, dataset: Result<(), &str>, columns: &[ColumnNow<'_>]) -> RunAlert {
    let mut out = Vec::new();
    for c in columns {
        let history = &c.history[..c.history.len().min(MAX_ALERT_RUNS as usize)];
        // The column's last alert, unless a recovery closed it since.
        let open = history
            .iter()
            .find(|r| matches!(r.action, AlertAction::Fired | AlertAction::Recovered))
            .filter(|r| r.action == AlertAction::Fired);
        let (action, reason) = if c.drifted {
            let previous = (rule.n as usize).saturating_sub(1);
            let drifted_runs = 1 + history.iter().take(previous).filter(|r| r.drifted).count();
            let severity = c.severity.unwrap_or(DriftSeverity::Moderate);
            let runs = format!("drifted in {drifted_runs} of the last {} run(s)", rule.n);
            if drifted_runs < rule.k as usize {
                (AlertAction::Held, format!("{runs}; the rule needs {} of {}", rule.k, rule.n))
            } else if let Some(last) = open.filter(|last| now - last.at < rule.cooldown_secs) {
                let before = last.severity.unwrap_or(DriftSeverity::Moderate);
                if severity > before {
                    (
                        AlertAction::Fired,
                        format!(
                            "{runs}; severity rose from {} to {} during the cooldown after the alert of {}",
                            before.as_str(),
                            severity.as_str(),
                            last.at_label
                        ),
                    )
                } else {
                    (
                        AlertAction::Held,
                        format!(
                            "cooldown: alerted for the run of {} ({} earlier, severity {}); held for {} unless the severity rises",
                            last.at_label,
                            hours(now - last.at),
                            before.as_str(),
                            hours(rule.cooldown_secs)
                        ),
                    )
                }
            } else {
                (AlertAction::Fired, format!("{runs} (rule: {} of {})", rule.k, rule.n))
            }
        } else if let Some(last) = open {
            (AlertAction::Recovered, format!("no longer drifts; alerted for the run of {}", last.at_label))
        } else {
            (AlertAction::None, String::new())
        };
        let (action, reason) = match (action, dataset) {
            (AlertAction::Fired, Err(why)) => (AlertAction::Held, format!("{reason}; but {why}")),
            _ => (action, reason),
        };
        if action != AlertAction::None {
            let severity = if c.drifted { c.severity } else { None };
            out.push(ColumnAlert { column: c.column.to_owned(), action, severity, reason });
        }
    }
    let list = |action: AlertAction| {
        out.iter().filter(|c| c.action == action).map(|c| c.column.as_str()).collect::<Vec<_>>().join(", ")
    };
    let (fired, recovered, held) = (list(AlertAction::Fired), list(AlertAction::Recovered), list(AlertAction::Held));
    let mut parts = Vec::new();
    let action = if !fired.is_empty() {
        parts.push(format!("alert for {fired}"));
        AlertAction::Fired
    } else if !recovered.is_empty() {
        AlertAction::Recovered
    } else if !held.is_empty() {
        AlertAction::Held
    } else {
        AlertAction::None
    };
    if !held.is_empty() {
        parts.push(format!("held back for {held}"));
    }
    if !recovered.is_empty() {
        parts.push(format!("recovered: {recovered}"));
    }
    let reason = if parts.is_empty() { "no drifted column".to_owned() } else { parts.join("; ") };
    RunAlert { action, reason, columns: out }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600;

    fn past(at: i64, drifted: bool, action: AlertAction, severity: Option<DriftSeverity>) -> PastRun {
        PastRun { at, at_label: format!("t{}", at / H), drifted, action, severity }
    }

    fn one<'a>(drifted: bool, severity: Option<DriftSeverity>, history: &'a [PastRun]) -> [ColumnNow<'a>; 1] {
        [ColumnNow { column: "x", drifted, severity, history }]
    }

    fn decide(rule: AlertRule, now: i64, columns: &[ColumnNow<'_>]) -> RunAlert {
        decide_alerts(&rule, now, Ok(()), columns)
    }

    #[test]
    fn the_first_drift_fires_by_default_and_k_of_n_holds_a_single_run() {
        let d = decide(AlertRule::default(), 10 * H, &one(true, Some(DriftSeverity::Moderate), &[]));
        assert_eq!(d.action, AlertAction::Fired, "{d:?}");
        let rule = AlertRule { k: 2, n: 3, ..Default::default() };
        let d = decide(rule, 10 * H, &one(true, Some(DriftSeverity::Moderate), &[]));
        assert_eq!(d.action, AlertAction::Held);
        assert!(d.columns[0].reason.contains("drifted in 1 of the last 3 run(s); the rule needs 2 of 3"), "{d:?}");
        // Two of the last three (the oldest of the history is outside n).
        let history = [past(9 * H, false, AlertAction::None, None), past(8 * H, true, AlertAction::Held, None)];
        let d = decide(rule, 10 * H, &one(true, Some(DriftSeverity::Moderate), &history));
        assert_eq!(d.action, AlertAction::Fired, "{d:?}");
        let outside = [past(9 * H, false, AlertAction::None, None), past(8 * H, false, AlertAction::None, None)];
        let history = [outside[0].clone(), outside[1].clone(), past(7 * H, true, AlertAction::Held, None)];
        assert_eq!(decide(rule, 10 * H, &one(true, None, &history)).action, AlertAction::Held);
    }

    #[test]
    fn a_cooldown_holds_the_same_severity_and_lets_a_rise_through() {
        let fired = [past(0, true, AlertAction::Fired, Some(DriftSeverity::High))];
        let d = decide(AlertRule::default(), 6 * H, &one(true, Some(DriftSeverity::High), &fired));
        assert_eq!(d.action, AlertAction::Held);
        assert!(d.reason.contains("held back for x"), "{}", d.reason);
        assert!(d.columns[0].reason.starts_with("cooldown: alerted for the run of t0 (6.0 h earlier"), "{d:?}");
        let d = decide(AlertRule::default(), 6 * H, &one(true, Some(DriftSeverity::Severe), &fired));
        assert_eq!(d.action, AlertAction::Fired);
        assert!(d.columns[0].reason.contains("severity rose from high to severe"), "{d:?}");
        // After the cooldown, the same severity fires again.
        let d = decide(AlertRule::default(), 24 * H, &one(true, Some(DriftSeverity::High), &fired));
        assert_eq!(d.action, AlertAction::Fired);
        // Held runs in between do not restart the cooldown: the last fired one counts.
        let history = [past(12 * H, true, AlertAction::Held, Some(DriftSeverity::High)), fired[0].clone()];
        assert_eq!(
            decide(AlertRule::default(), 25 * H, &one(true, Some(DriftSeverity::High), &history)).action,
            AlertAction::Fired
        );
    }

    #[test]
    fn an_alerted_column_back_to_normal_recovers_once() {
        let fired = [past(0, true, AlertAction::Fired, Some(DriftSeverity::Moderate))];
        let d = decide(AlertRule::default(), 24 * H, &one(false, None, &fired));
        assert_eq!(d.action, AlertAction::Recovered);
        assert_eq!(d.columns[0].reason, "no longer drifts; alerted for the run of t0");
        let after = [past(24 * H, false, AlertAction::Recovered, None), fired[0].clone()];
        let d = decide(AlertRule::default(), 48 * H, &one(false, None, &after));
        assert_eq!((d.action, d.columns.len()), (AlertAction::None, 0), "only once");
        // A new drift after the recovery is a new alert, cooldown or not.
        let d = decide(AlertRule::default(), 30 * H, &one(true, Some(DriftSeverity::Moderate), &after));
        assert_eq!(d.action, AlertAction::Fired);
    }

    #[test]
    fn without_dataset_drift_a_column_is_held_and_says_why() {
        let d = decide_alerts(
            &AlertRule::default(),
            0,
            Err("the dataset did not drift (1 of 4 columns, threshold 50%)"),
            &one(true, Some(DriftSeverity::Moderate), &[]),
        );
        assert_eq!(d.action, AlertAction::Held);
        assert!(d.columns[0].reason.ends_with("but the dataset did not drift (1 of 4 columns, threshold 50%)"));
        assert_eq!(d.columns_with(AlertAction::Held), ["x"]);
    }

    #[test]
    fn rules_are_checked() {
        let rule = |k, n, cooldown_secs| AlertRule { k, n, cooldown_secs }.validate();
        assert_eq!(rule(0, 1, 0).unwrap_err().to_string(), "alert k = 0 must be in 1..=n (n = 1)");
        assert_eq!(rule(3, 2, 0), Err(AlertRuleError::K { k: 3, n: 2 }));
        assert_eq!(rule(1, 21, 0).unwrap_err().to_string(), "alert n = 21 is more than the 20 runs the history holds");
        assert_eq!(rule(1, 1, -1), Err(AlertRuleError::Cooldown { secs: -1 }));
        assert!(AlertRule { k: 2, n: 3, cooldown_secs: 0 }.validate().is_ok());
        assert_eq!(AlertAction::parse("held"), AlertAction::Held);
        assert_eq!(AlertAction::parse(""), AlertAction::None);
    }
}
