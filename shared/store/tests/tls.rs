//! sslmode require and verify-full against a server with a certificate made
//! here: a throwaway cluster is switched to TLS with a test CA.

use std::os::unix::fs::{MetadataExt, PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use sheetsync_config::{DbConfig, SslMode};
use sheetsync_localpg::Cluster;
use sheetsync_store::{StoreError, connect, quote_literal};

/// The server certificate names only this host; connections reach it
/// through `hostaddr`, so no name resolution is involved.
const SERVER_NAME: &str = "db.sheetsync.test";

struct TlsServer {
    cluster: Cluster,
    ca_file: PathBuf,
}

impl TlsServer {
    async fn start() -> TlsServer {
        let cluster = Cluster::start().await.unwrap();
        let dir = cluster.dir().to_path_buf();

        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "sheetsync test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let server_key = KeyPair::generate().unwrap();
        let server_cert = CertificateParams::new(vec![SERVER_NAME.to_string()])
            .unwrap()
            .signed_by(&server_key, &ca)
            .unwrap();

        // postgres runs as the dir's owner and wants a private key only it
        // can read.
        let owner = std::fs::metadata(&dir).unwrap();
        let write = |name: &str, text: &str, mode: u32| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            chown(&path, Some(owner.uid()), Some(owner.gid())).unwrap();
            path
        };
        let cert = write("server.crt", &server_cert.pem(), 0o644);
        let key = write("server.key", &server_key.serialize_pem(), 0o600);
        let ca_file = write("ca.pem", &ca.pem(), 0o644);

        let (admin, conn) =
            tokio_postgres::connect(&cluster.url("postgres"), tokio_postgres::NoTls)
                .await
                .unwrap();
        tokio::spawn(conn);
        // One statement per query: ALTER SYSTEM refuses a transaction.
        for (setting, value) in [
            ("ssl_cert_file", quote_literal(&cert.display().to_string())),
            ("ssl_key_file", quote_literal(&key.display().to_string())),
            ("ssl", "on".to_string()),
        ] {
            admin
                .batch_execute(&format!("ALTER SYSTEM SET {setting} = {value}"))
                .await
                .unwrap();
        }
        admin.execute("SELECT pg_reload_conf()", &[]).await.unwrap();
        let server = TlsServer { cluster, ca_file };
        // The reload is asynchronous: poll until TLS is offered.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match connect(&server.config(SERVER_NAME, SslMode::Require, None)).await {
                Ok(_) => break,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("server never offered TLS: {e}"),
            }
        }
        server
    }

    fn config(&self, host: &str, mode: SslMode, ca: Option<&Path>) -> DbConfig {
        let url = format!(
            "postgres://postgres@{host}:{}/postgres?hostaddr=127.0.0.1&connect_timeout=5",
            self.cluster.port()
        );
        let mut cfg = DbConfig::from_url(&url).unwrap();
        cfg.sslmode = mode;
        cfg.sslrootcert = ca.map(Path::to_path_buf);
        cfg
    }
}

async fn encrypted(client: &tokio_postgres::Client) -> bool {
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

fn detail(err: StoreError) -> String {
    match err {
        StoreError::Connect { detail, .. } => detail,
        other => panic!("expected a connection error, got {other:?}"),
    }
}

#[tokio::test]
async fn require_encrypts_and_verify_full_checks_chain_and_name() {
    let server = TlsServer::start().await;
    let ca = Some(server.ca_file.as_path());

    // verify-full with the CA: encrypted.
    let client = connect(&server.config(SERVER_NAME, SslMode::VerifyFull, ca))
        .await
        .unwrap();
    assert!(encrypted(&client).await);

    // require trusts any certificate, as libpq does, but still encrypts.
    let client = connect(&server.config(SERVER_NAME, SslMode::Require, None))
        .await
        .unwrap();
    assert!(encrypted(&client).await);

    // verify-full without the CA: the public roots do not know it.
    let err = detail(
        connect(&server.config(SERVER_NAME, SslMode::VerifyFull, None))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        err,
        "error performing TLS handshake: invalid peer certificate: UnknownIssuer"
    );

    // verify-full to a name the certificate does not carry.
    let err = detail(
        connect(&server.config("127.0.0.1", SslMode::VerifyFull, ca))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        err,
        format!(
            "error performing TLS handshake: invalid peer certificate: certificate not valid \
             for name \"127.0.0.1\"; certificate is only valid for DnsName(\"{SERVER_NAME}\")"
        )
    );
}
