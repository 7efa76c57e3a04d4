-- Development stack only (deploy/compose.yaml): run once by the postgres
-- image on an empty data volume. One database and one owning role per
-- service, so that no service can read another's tables. The passwords are
-- development values; production databases are provisioned by the platform.
CREATE ROLE identity LOGIN PASSWORD 'identity-dev';
CREATE DATABASE identity OWNER identity;
REVOKE ALL ON DATABASE identity FROM PUBLIC;

CREATE ROLE application LOGIN PASSWORD 'application-dev';
CREATE DATABASE application OWNER application;
REVOKE ALL ON DATABASE application FROM PUBLIC;

CREATE ROLE notifications LOGIN PASSWORD 'notifications-dev';
CREATE DATABASE notifications OWNER notifications;
REVOKE ALL ON DATABASE notifications FROM PUBLIC;

CREATE ROLE routing LOGIN PASSWORD 'routing-dev';
CREATE DATABASE routing OWNER routing;
REVOKE ALL ON DATABASE routing FROM PUBLIC;

CREATE ROLE documents LOGIN PASSWORD 'documents-dev';
CREATE DATABASE documents OWNER documents;
REVOKE ALL ON DATABASE documents FROM PUBLIC;

CREATE ROLE approval LOGIN PASSWORD 'approval-dev';
CREATE DATABASE approval OWNER approval;
REVOKE ALL ON DATABASE approval FROM PUBLIC;
