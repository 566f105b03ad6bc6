//! Which PostgreSQL server the tests of this process use, chosen once.

use std::path::PathBuf;

use sheetsync_localpg::{Cluster, probe};
use tokio::sync::OnceCell;

use crate::url::UrlBase;

const LOCAL: &str = "postgres://postgres@127.0.0.1:5432/";
/// Forces one source: `local`, `url` or `initdb`.
pub const FORCE_ENV: &str = "SHEETSYNC_TEST_PG";

/// Where the test databases live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgSource {
    /// This machine's server at 127.0.0.1:5432.
    Local,
    /// The server named by `DATABASE_URL`.
    DatabaseUrl,
    /// A throwaway cluster this process started; `dir` holds its data
    /// directory and is removed when the process exits.
    Initdb { dir: PathBuf },
}

#[derive(Debug)]
pub(crate) struct Server {
    pub(crate) source: PgSource,
    /// Where new databases are created from (the admin connection).
    pub(crate) admin_url: String,
    /// The server's connection string with the database left open.
    pub(crate) base: UrlBase,
}

static SERVER: OnceCell<Server> = OnceCell::const_new();

pub(crate) async fn server() -> &'static Server {
    SERVER.get_or_init(choose).await
}

async fn choose() -> Server {
    let forced = std::env::var(FORCE_ENV).unwrap_or_default();
    match forced.as_str() {
        "local" => local().await.unwrap_or_else(|e| {
            panic!("{FORCE_ENV}=local but 127.0.0.1:5432 does not answer: {e}")
        }),
        "url" => database_url()
            .await
            .unwrap_or_else(|e| panic!("{FORCE_ENV}=url but DATABASE_URL is unusable: {e}")),
        "initdb" => initdb()
            .await
            .unwrap_or_else(|e| panic!("{FORCE_ENV}=initdb but no cluster could start: {e}")),
        "" => {
            let mut tried = Vec::new();
            match local().await {
                Ok(s) => return s,
                Err(e) => tried.push(format!("127.0.0.1:5432: {e}")),
            }
            if std::env::var_os("DATABASE_URL").is_some() {
                match database_url().await {
                    Ok(s) => return s,
                    Err(e) => tried.push(format!("DATABASE_URL: {e}")),
                }
            }
            initdb().await.unwrap_or_else(|e| {
                tried.push(format!("initdb: {e}"));
                panic!("no PostgreSQL for tests; tried {}", tried.join("; "))
            })
        }
        other => panic!("{FORCE_ENV}={other:?} is not one of local, url, initdb"),
    }
}

async fn local() -> Result<Server, String> {
    let admin_url = format!("{LOCAL}postgres?connect_timeout=3");
    probe(&admin_url).await?;
    let dropped = crate::stale::drop_stale(&admin_url).await;
    if !dropped.is_empty() {
        eprintln!(
            "sheetsync-testkit: dropped {} database(s) left by dead test processes",
            dropped.len()
        );
    }
    Ok(Server {
        source: PgSource::Local,
        admin_url,
        base: UrlBase::parse(LOCAL),
    })
}

async fn database_url() -> Result<Server, String> {
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set".to_string())?;
    probe(&url).await?;
    Ok(Server {
        source: PgSource::DatabaseUrl,
        base: UrlBase::parse(&url),
        admin_url: url,
    })
}

async fn initdb() -> Result<Server, String> {
    let cluster = Cluster::start().await.map_err(|e| e.to_string())?;
    let base = UrlBase::parse(&cluster.url(""));
    let dir = cluster.dir().to_path_buf();
    // One cluster serves every test of the process; it goes when the process does.
    cluster.keep_until_exit();
    Ok(Server {
        source: PgSource::Initdb { dir },
        admin_url: base.with_db("postgres"),
        base,
    })
}
