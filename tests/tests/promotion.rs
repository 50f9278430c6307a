//! Champion alias baselines and promotion against a real MLflow server, promotions serialised by a
//! conditional write in DynamoDB (moto).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use deltaone::promotion::PromotionStatus;
use deltaone::{BaselineSource, Outcome, Policy, VersionNumber};
use deltaone_app::check::{CheckRequest, Checker};
use deltaone_app::promotion::{LockError, PromotionLock};
use deltaone_app::store::VerdictStore;
use deltaone_aws::promotion::DynamoPromotionLock;
use deltaone_aws::verdicts::DynamoVerdictStore;
use deltaone_mlflow::MlflowRegistry;
use deltaone_system_tests::{NewVersion, Stack, unique};
use serde_json::json;

/// The real lock, except that each check's first attempt waits until both checks arrive: both
/// have then decided against the old champion, and exactly one can win the conditional write.
struct Rendezvous {
    inner: DynamoPromotionLock,
    barrier: tokio::sync::Barrier,
    arrived: Mutex<HashSet<String>>,
}

#[async_trait]
impl PromotionLock for Rendezvous {
    async fn try_acquire(&self, model: &str, holder: &str) -> Result<bool, LockError> {
        let first_of_the_race = {
            let mut arrived = self.arrived.lock().unwrap();
            arrived.insert(holder.to_owned()) && arrived.len() <= 2
        };
        if first_of_the_race {
            self.barrier.wait().await;
        }
        self.inner.try_acquire(model, holder).await
    }

    async fn release(&self, model: &str, holder: &str) -> Result<(), LockError> {
        self.inner.release(model, holder).await
    }
}

fn v(n: u64) -> VersionNumber {
    VersionNumber::new(n).unwrap()
}

async fn champion(stack: &Stack, model: &str) -> u64 {
    let reply = stack.mlflow().get("registered-models/alias", &[("name", model), ("alias", "champion")]).await;
    reply["model_version"]["version"].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_candidates_achieving_at_once_end_with_one_champion_and_the_other_rechecked_against_it() {
    let stack = Stack::get();
    let model = unique("champion-race");
    // Version 1 is the champion at 0.80; versions 2 (0.85) and 3 (0.855) both beat it by 5 pp or
    // more, but neither beats the other by 1 pp. The metric is named on the registered model, so that
    // whichever version is champion, the comparison knows it.
    let baseline = NewVersion::tagged(&[("benchmark_value", "0.8")]);
    stack
        .mlflow()
        .create_model_with_versions(
            &model,
            &[("benchmark_metric", "accuracy")],
            &[baseline, NewVersion::with_run(&[("accuracy", 0.85)]), NewVersion::with_run(&[("accuracy", 0.855)])],
        )
        .await;
    stack.mlflow().post("registered-models/alias", json!({"name": model, "alias": "champion", "version": "1"})).await;

    let table = unique("verdicts");
    let store = Arc::new(DynamoVerdictStore::new(stack.dynamodb().await, table.clone()));
    store.create_table_if_missing().await.expect("create table in moto");
    let lock = Arc::new(Rendezvous {
        inner: DynamoPromotionLock::new(stack.dynamodb().await, table),
        barrier: tokio::sync::Barrier::new(2),
        arrived: Mutex::new(HashSet::new()),
    });
    let checker =
        Checker::new(Arc::new(MlflowRegistry::new(stack.mlflow_client())), Some(store.clone()), Policy::default())
            .with_champion("champion", lock);

    let check = |version: u64| {
        let checker = checker.clone();
        let request = CheckRequest { model: model.clone(), version: Some(v(version)), dry_run: false };
        async move { checker.check(&request).await.expect("check runs") }
    };
    let (two, three) = tokio::join!(check(2), check(3));

    let winner = champion(&stack, &model).await;
    assert!(winner == 2 || winner == 3, "champion is version {winner}");
    let (won, lost) = if winner == 2 { (&two, &three) } else { (&three, &two) };
    let loser = 5 - winner;

    // The winner was checked against version 1 and moved the alias.
    assert_eq!(won.verdict.outcome, Outcome::Achieved, "{}", won.verdict.reason);
    assert_eq!((won.verdict.baseline_version, won.verdict.baseline_source), (Some(v(1)), Some(BaselineSource::Alias)));
    let p = promotion_of(&store, won).await;
    assert_eq!((p.status, p.from_version, p.to_version), (PromotionStatus::Promoted, Some(v(1)), Some(v(winner))));

    // The other found the champion changed, was checked again against the winner, and left it.
    assert_eq!(lost.verdict.baseline_version, Some(v(winner)), "{}", lost.verdict.reason);
    assert_eq!(lost.verdict.outcome, Outcome::NotAchieved, "{}", lost.verdict.reason);
    let p = promotion_of(&store, lost).await;
    assert_eq!(p.status, PromotionStatus::NotPromoted, "{}", p.reason);
    assert_eq!(p.rechecked_against, vec![v(winner)]);
    assert_eq!(p.to_version, Some(v(winner)));
    assert!(p.reason.contains(&format!("champion moved to version {winner}")), "{}", p.reason);
    let record = store.get(&model, v(loser)).await.unwrap().unwrap();
    assert_eq!(record.verdict, lost.verdict);

    // A repeated check of the champion changes nothing.
    let again = check(winner).await;
    assert_eq!(again.stored, deltaone_app::check::Stored::Existing);
    assert_eq!(champion(&stack, &model).await, winner);
}

/// The promotion stored with a report's verdict record.
async fn promotion_of(
    store: &DynamoVerdictStore,
    report: &deltaone_app::check::CheckReport,
) -> deltaone::promotion::Promotion {
    let record = store.get(&report.verdict.model, report.verdict.candidate_version.unwrap()).await.unwrap().unwrap();
    record.promotion.expect("the record carries the promotion")
}
