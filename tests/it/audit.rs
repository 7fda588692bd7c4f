//! `GET /api/audit-log` input handling beyond the API-key scenarios.
use crate::both;

both!(
    audit_log_model_with_nul_is_a_400_not_a_500,
    |t| async move {
        let admin = t.setup().await;
        let r = t.get("/api/audit-log?model=%00", &admin).await;
        r.assert(400);
        assert_eq!(
            r.json()["errors"]["model"],
            "value must not contain NUL characters."
        );
        t.get("/api/audit-log?model=User", &admin).await.assert(200);
    }
);
