//! Connection strings for one database on a known server.

/// A connection string with the database name left open.
#[derive(Debug, Clone)]
pub(crate) enum UrlBase {
    /// `postgres://user@host:port/` + database + `?params`
    Url { prefix: String, suffix: String },
    /// libpq key/value form; the database is appended as `dbname=...`.
    KeyValue(String),
}

impl UrlBase {
    pub(crate) fn parse(conn: &str) -> UrlBase {
        let Some(scheme_end) = conn.find("://") else {
            return UrlBase::KeyValue(conn.trim().to_string());
        };
        let after_scheme = scheme_end + 3;
        let rest = &conn[after_scheme..];
        let query_at = rest.find('?').map_or(conn.len(), |i| after_scheme + i);
        let path_at = conn[after_scheme..query_at]
            .find('/')
            .map(|i| after_scheme + i);
        match path_at {
            Some(slash) => UrlBase::Url {
                prefix: conn[..=slash].to_string(),
                suffix: conn[query_at..].to_string(),
            },
            None => UrlBase::Url {
                prefix: format!("{}/", &conn[..query_at]),
                suffix: conn[query_at..].to_string(),
            },
        }
    }

    /// The connection string for database `dbname` (a plain name, as the
    /// harness makes them: letters, digits and underscores).
    pub(crate) fn with_db(&self, dbname: &str) -> String {
        match self {
            UrlBase::Url { prefix, suffix } => format!("{prefix}{dbname}{suffix}"),
            UrlBase::KeyValue(kv) => format!("{kv} dbname={dbname}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::UrlBase;

    #[test]
    fn url_database_is_replaced_and_params_kept() {
        let base = UrlBase::parse("postgres://u:p@db.example:6543/app?sslmode=require");
        assert_eq!(
            base.with_db("t1"),
            "postgres://u:p@db.example:6543/t1?sslmode=require"
        );
    }

    #[test]
    fn url_without_database_gets_one() {
        assert_eq!(
            UrlBase::parse("postgresql://u@h").with_db("t1"),
            "postgresql://u@h/t1"
        );
        assert_eq!(
            UrlBase::parse("postgres://u@h?connect_timeout=3").with_db("t1"),
            "postgres://u@h/t1?connect_timeout=3"
        );
    }

    #[test]
    fn key_value_form_gets_dbname_appended() {
        let base = UrlBase::parse("host=127.0.0.1 user=postgres dbname=app");
        assert_eq!(
            base.with_db("t1"),
            "host=127.0.0.1 user=postgres dbname=app dbname=t1"
        );
        let cfg: tokio_postgres::Config = base.with_db("t1").parse().unwrap();
        assert_eq!(cfg.get_dbname(), Some("t1"));
    }
}
