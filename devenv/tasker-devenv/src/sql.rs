//! `tasker-devenv sql`: read-only queries for the `tasker-worker dev` page,
//! over stdin/stdout, on a small pool that stays connected. One JSON request
//! per line, `{ "id": 1, "sql": "SELECT ... $1", "params": ["text", null] }`
//! (parameters are text or null; cast them in the SQL), one answer per line,
//! `{ "id": 1, "rows": [...] }` or `{ "id": 1, "error": "..." }`, in any
//! order. Sessions are read-only. Ends when stdin closes.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, PgPool};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

pub async fn serve(database_url: &str) -> Result<()> {
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(|conn, _| Box::pin(async move { conn.execute("SET default_transaction_read_only = on").await.map(|_| ()) }))
        .connect_lazy(database_url)?;
    let out = Arc::new(Mutex::new(tokio::io::stdout()));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    println!("SQL READY");
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let (pool, out) = (pool.clone(), out.clone());
        tokio::spawn(async move {
            let answer = answer(&pool, &line).await;
            let mut out = out.lock().await;
            let _ = out.write_all(format!("{answer}\n").as_bytes()).await;
            let _ = out.flush().await;
        });
    }
    pool.close().await;
    Ok(())
}

async fn answer(pool: &PgPool, line: &str) -> Value {
    let request: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return json!({ "id": null, "error": format!("not a JSON request: {e}") }),
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let Some(sql) = request.get("sql").and_then(Value::as_str) else {
        return json!({ "id": id, "error": "the request has no sql" });
    };
    let wrapped = format!("SELECT coalesce(json_agg(q), '[]'::json)::text FROM ({sql}) q");
    let mut query = sqlx::query_scalar::<_, String>(&wrapped);
    for param in request.get("params").and_then(Value::as_array).into_iter().flatten() {
        query = query.bind(match param {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        });
    }
    match query.fetch_one(pool).await {
        Ok(text) => json!({ "id": id, "rows": serde_json::from_str::<Value>(&text).unwrap_or(Value::Null) }),
        Err(e) => json!({ "id": id, "error": e.to_string() }),
    }
}
