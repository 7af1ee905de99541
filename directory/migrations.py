"""Schema of the directory database: HSDS 3.0 tables plus our own, as ordered migrations."""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("directory")


@migrations()
def m001_hsds_core(db: Database) -> None:
    """HSDS 3.0 core tables, the area gazetteer and the search index tables."""
    db.executescript(
        """
        CREATE TABLE area (
            code TEXT PRIMARY KEY,          -- 10-digit PSGC, or ISO 3166-1 alpha-2 for countries
            name TEXT NOT NULL,
            level TEXT NOT NULL,            -- country | region | province | city | barangay
            kind TEXT NOT NULL,             -- PSGC level (highly_urbanized_city, municipality, ...)
            parent_code TEXT,
            region_code TEXT,
            province_code TEXT,
            country_code TEXT NOT NULL,
            lat REAL,
            lon REAL,
            approximate INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX area_parent ON area(parent_code);
        CREATE INDEX area_level ON area(level);
        CREATE TABLE area_alias (
            alias TEXT NOT NULL,            -- normalised (geo.normalize) name people type
            code TEXT NOT NULL REFERENCES area(code),
            PRIMARY KEY (alias, code)
        );

        CREATE TABLE organization (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            alternate_name TEXT,
            description TEXT NOT NULL DEFAULT '',
            email TEXT,
            website TEXT,
            legal_status TEXT,
            uri TEXT,
            parent_organization_id TEXT,
            last_modified TEXT
        );
        CREATE TABLE service (
            id TEXT PRIMARY KEY,
            organization_id TEXT NOT NULL REFERENCES organization(id),
            name TEXT NOT NULL,
            alternate_name TEXT,
            description TEXT,
            url TEXT,
            email TEXT,
            status TEXT NOT NULL DEFAULT 'active',
            interpretation_services TEXT,
            application_process TEXT,
            fees_description TEXT,
            eligibility_description TEXT,
            minimum_age INTEGER,
            maximum_age INTEGER,
            assured_date TEXT,              -- last verification by a person (ISO date)
            assurer_email TEXT,
            alert TEXT,
            last_modified TEXT,
            -- our profile:
            kind TEXT,                      -- the source's kind (hotline, residential_centre, ...)
            gender TEXT,                    -- NULL (any) | female | male
            free INTEGER,                   -- 1 free, 0 charged, NULL unknown
            twenty_four_seven INTEGER NOT NULL DEFAULT 0,
            victim_facing INTEGER NOT NULL DEFAULT 1,
            source_url TEXT,
            source_date TEXT,               -- as the source gives it ("2023-10-20", "undated", ...)
            confidence TEXT,                -- high | medium | low
            notes TEXT,
            other_channels TEXT,            -- web forms, chat, SMS keywords, email, as published
            hours_text TEXT,                -- opening hours as published
            hours_note TEXT                 -- the part of hours_text that is not in schedule rows
        );
        CREATE INDEX service_organization ON service(organization_id);
        CREATE TABLE location (
            id TEXT PRIMARY KEY,
            organization_id TEXT REFERENCES organization(id),
            name TEXT,
            location_type TEXT NOT NULL DEFAULT 'physical',
            description TEXT,
            latitude REAL,
            longitude REAL,
            confidential INTEGER NOT NULL DEFAULT 0,
            area_code TEXT REFERENCES area(code)
        );
        CREATE TABLE address (
            id TEXT PRIMARY KEY,
            location_id TEXT NOT NULL REFERENCES location(id),
            attention TEXT,
            address_1 TEXT NOT NULL DEFAULT '',
            address_2 TEXT,
            city TEXT NOT NULL DEFAULT '',
            region TEXT,
            state_province TEXT NOT NULL DEFAULT '',
            postal_code TEXT NOT NULL DEFAULT '',
            country TEXT NOT NULL DEFAULT 'PH',
            address_type TEXT NOT NULL DEFAULT 'physical',
            area_code TEXT REFERENCES area(code)
        );
        CREATE INDEX address_location ON address(location_id);
        CREATE TABLE service_at_location (
            id TEXT PRIMARY KEY,
            service_id TEXT NOT NULL REFERENCES service(id),
            location_id TEXT NOT NULL REFERENCES location(id),
            description TEXT
        );
        CREATE INDEX sal_service ON service_at_location(service_id);
        CREATE INDEX sal_location ON service_at_location(location_id);
        CREATE TABLE phone (
            id TEXT PRIMARY KEY,
            service_id TEXT REFERENCES service(id),
            location_id TEXT REFERENCES location(id),
            organization_id TEXT REFERENCES organization(id),
            number TEXT NOT NULL,           -- as published
            extension TEXT,
            type TEXT,                      -- HSDS: text|voice|fax|cell|video|pager|textphone
            description TEXT,
            e164 TEXT,                      -- +63..., when the number validates
            short_code TEXT,                -- 163, 1343, 911, ...
            sms INTEGER NOT NULL DEFAULT 0,
            sms_body TEXT,                  -- the keyword a text line expects (ENDOSEC ...)
            valid INTEGER NOT NULL DEFAULT 0,
            needs_verification INTEGER NOT NULL DEFAULT 0,
            problem TEXT,                   -- why it needs verification
            tested_on TEXT,
            position INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX phone_service ON phone(service_id);
        CREATE TABLE schedule (
            id TEXT PRIMARY KEY,
            service_id TEXT REFERENCES service(id),
            location_id TEXT REFERENCES location(id),
            service_at_location_id TEXT REFERENCES service_at_location(id),
            timezone TEXT,
            freq TEXT,
            byday TEXT,
            opens_at TEXT,
            closes_at TEXT,
            description TEXT,
            notes TEXT
        );
        CREATE INDEX schedule_service ON schedule(service_id);
        CREATE TABLE language (
            id TEXT PRIMARY KEY,
            service_id TEXT REFERENCES service(id),
            location_id TEXT REFERENCES location(id),
            phone_id TEXT REFERENCES phone(id),
            name TEXT,
            code TEXT,
            note TEXT
        );
        CREATE INDEX language_service ON language(service_id);
        CREATE TABLE service_area (
            id TEXT PRIMARY KEY,
            service_id TEXT NOT NULL REFERENCES service(id),
            name TEXT,
            description TEXT,
            extent TEXT,
            extent_type TEXT,
            uri TEXT,
            area_code TEXT REFERENCES area(code)
        );
        CREATE INDEX service_area_service ON service_area(service_id);
        CREATE TABLE taxonomy (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            uri TEXT,
            version TEXT
        );
        CREATE TABLE taxonomy_term (
            id TEXT PRIMARY KEY,
            code TEXT UNIQUE,
            name TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            parent_id TEXT,
            taxonomy TEXT,
            taxonomy_id TEXT REFERENCES taxonomy(id),
            language TEXT,
            position INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE attribute (
            id TEXT PRIMARY KEY,
            link_id TEXT NOT NULL,
            taxonomy_term_id TEXT NOT NULL REFERENCES taxonomy_term(id),
            link_type TEXT,
            link_entity TEXT NOT NULL DEFAULT 'service',
            value TEXT
        );
        CREATE INDEX attribute_link ON attribute(link_id);
        CREATE INDEX attribute_term ON attribute(taxonomy_term_id);
        """
    )


@migrations()
def m002_search_index(db: Database) -> None:
    """Narrow tables the search runs on, rebuilt from the HSDS tables by search_index."""
    db.executescript(
        """
        CREATE TABLE search_doc (
            rowid INTEGER PRIMARY KEY,
            service_id TEXT NOT NULL UNIQUE,
            name_key TEXT NOT NULL,
            organization_id TEXT,
            country_code TEXT,
            scope TEXT NOT NULL,            -- local|provincial|regional|island_group|national|...
            scope_rank INTEGER NOT NULL,    -- 0 local ... 4 national, 5 international, 6 global
            region_code TEXT,
            area_code TEXT,                 -- the location's area (public precision)
            minimum_age INTEGER,
            maximum_age INTEGER,
            gender TEXT,
            free INTEGER,
            twenty_four_seven INTEGER NOT NULL DEFAULT 0,
            victim_facing INTEGER NOT NULL DEFAULT 1,
            phone_count INTEGER NOT NULL DEFAULT 0,
            verified_key TEXT,              -- assured_date, else the source date, for sort=verified
            lat REAL,                       -- public precision: a confidential one's city point
            lon REAL
        );
        CREATE INDEX search_doc_name ON search_doc(name_key);
        CREATE INDEX search_doc_verified ON search_doc(verified_key);
        CREATE TABLE search_area (
            code TEXT NOT NULL,
            doc INTEGER NOT NULL,
            exact INTEGER NOT NULL,         -- 1: served or located exactly here; 0: ancestor
            PRIMARY KEY (code, exact, doc)
        ) WITHOUT ROWID;
        CREATE INDEX search_area_doc ON search_area(doc);
        CREATE TABLE search_term (
            code TEXT NOT NULL,
            doc INTEGER NOT NULL,
            PRIMARY KEY (code, doc)
        ) WITHOUT ROWID;
        CREATE INDEX search_term_doc ON search_term(doc);
        CREATE TABLE search_language (
            code TEXT NOT NULL,
            doc INTEGER NOT NULL,
            PRIMARY KEY (code, doc)
        ) WITHOUT ROWID;
        CREATE INDEX search_language_doc ON search_language(doc);
        CREATE TABLE search_hours (
            doc INTEGER NOT NULL,
            start_minute INTEGER NOT NULL,  -- minutes since Monday 00:00 UTC
            end_minute INTEGER NOT NULL
        );
        CREATE INDEX search_hours_doc ON search_hours(doc);
        CREATE VIRTUAL TABLE search_fts USING fts5(
            name, organization, description, terms, areas,
            tokenize = 'porter unicode61 remove_diacritics 2'
        );
        """
    )


@migrations()
def m003_search_point(db: Database) -> None:
    """An R*Tree over the public-precision points of search_doc, for `near` searches.

    Only services with a real place in it: a location whose point is merely its region's or
    province's centre is left out (it joins the "serves this area" group instead).
    """
    db.executescript(
        """
        CREATE VIRTUAL TABLE search_point USING rtree(id, min_lat, max_lat, min_lon, max_lon);
        INSERT INTO search_point (id, min_lat, max_lat, min_lon, max_lon)
        SELECT d.rowid, d.lat, d.lat, d.lon, d.lon
        FROM search_doc d LEFT JOIN area a ON a.code = d.area_code
        WHERE d.lat IS NOT NULL AND d.lon IS NOT NULL
          AND (a.code IS NULL OR a.level IN ('city', 'barangay') OR a.lat IS NULL
               OR d.lat != a.lat OR d.lon != a.lon);
        """
    )


@migrations()
def m004_accounts_and_review(db: Database) -> None:
    """Accounts, memberships, API tokens, change requests, revisions and the audit log.

    Revisions and the audit log are append-only: triggers refuse UPDATE and DELETE.
    """
    db.executescript(
        """
        CREATE TABLE user (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            password_hash TEXT,             -- argon2; NULL until an invitation is accepted
            role TEXT NOT NULL CHECK (role IN ('admin', 'moderator', 'editor', 'partner')),
            active INTEGER NOT NULL DEFAULT 1,
            auth_version INTEGER NOT NULL DEFAULT 1,  -- bumped on password change: old sessions end
            created_at TEXT NOT NULL
        );
        CREATE TABLE membership (
            user_id INTEGER NOT NULL REFERENCES user(id),
            organization_id TEXT NOT NULL REFERENCES organization(id),
            role TEXT NOT NULL DEFAULT 'editor',
            PRIMARY KEY (user_id, organization_id)
        );
        CREATE TABLE api_token (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES user(id),
            token_hash TEXT NOT NULL UNIQUE,  -- sha256 of a 256-bit random token
            created_at TEXT NOT NULL,
            revoked INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE user_link (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES user(id),
            purpose TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
            token_hash TEXT NOT NULL UNIQUE,
            created_by INTEGER REFERENCES user(id),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        );
        CREATE TABLE revision (
            id INTEGER PRIMARY KEY,
            service_id TEXT NOT NULL,
            number INTEGER NOT NULL,
            action TEXT NOT NULL,           -- initial | create | edit | restore | verify
            record TEXT NOT NULL,           -- the full record as published (JSON)
            author_id INTEGER REFERENCES user(id),
            author_email TEXT,
            created_at TEXT NOT NULL,
            change_request_id INTEGER,
            restored_from INTEGER,
            note TEXT,
            UNIQUE (service_id, number)
        );
        CREATE TRIGGER revision_no_update BEFORE UPDATE ON revision
        BEGIN SELECT RAISE(ABORT, 'revisions are append-only'); END;
        CREATE TRIGGER revision_no_delete BEFORE DELETE ON revision
        BEGIN SELECT RAISE(ABORT, 'revisions are append-only'); END;
        CREATE TABLE change_request (
            id INTEGER PRIMARY KEY,
            service_id TEXT NOT NULL,
            organization_id TEXT NOT NULL,
            kind TEXT NOT NULL,             -- edit | create | restore
            base_version INTEGER,           -- the version the proposal was made against
            record TEXT NOT NULL,           -- the full proposed record (JSON)
            author_id INTEGER NOT NULL REFERENCES user(id),
            created_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'approved', 'rejected')),
            reviewer_id INTEGER REFERENCES user(id),
            reviewed_at TEXT,
            reason TEXT,
            published_version INTEGER
        );
        CREATE INDEX change_request_status ON change_request(status, created_at);
        CREATE INDEX change_request_service ON change_request(service_id);
        CREATE INDEX change_request_author ON change_request(author_id);
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor_id INTEGER,
            actor_email TEXT,
            action TEXT NOT NULL,
            target_type TEXT,
            target_id TEXT,
            detail TEXT                     -- JSON
        );
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        """
    )


@migrations()
def m005_search_tags_and_facets(db: Database) -> None:
    """Filters as FTS5 tokens, facet columns on search_doc, running facet totals.

    A region, type or language filter is a posting list in FTS5 (the `tags` column), so a
    search intersects lists instead of probing a table per text match; facet counts group the
    hits by three short columns of search_doc; search_totals holds the counts of the whole
    directory for a search with no filter at all. The R*Tree carries each point at full
    precision and whether it is victim-facing, so a count inside a circle needs no other table.
    Everything is rebuilt from the HSDS tables.
    """
    from directory import search_index

    db.executescript(
        """
        DROP TABLE search_fts;
        CREATE VIRTUAL TABLE search_fts USING fts5(
            name, organization, description, terms, areas, tags,
            tokenize = 'porter unicode61 remove_diacritics 2'
        );
        ALTER TABLE search_doc ADD COLUMN facet_regions TEXT;    -- region codes, comma-joined
        ALTER TABLE search_doc ADD COLUMN facet_types TEXT;      -- taxonomy term codes
        ALTER TABLE search_doc ADD COLUMN facet_languages TEXT;  -- ISO 639 codes
        -- the order of a search without words; victim_facing is not in it on purpose: an index
        -- on that column would tempt the planner away from the R*Tree in `near` searches
        CREATE INDEX search_doc_browse ON search_doc(scope_rank, twenty_four_seven DESC, name_key);
        CREATE TABLE search_totals (
            kind TEXT NOT NULL,             -- all|nationwide|region|type|language
            code TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (kind, code)
        ) WITHOUT ROWID;
        DROP TABLE search_point;
        -- reading an auxiliary (+) column costs a look-up per row: +lat/+lon are read only to
        -- decide the few points whose 32-bit box leaves their side of a circle unsure
        CREATE VIRTUAL TABLE search_point USING rtree(
            id, min_lat, max_lat, min_lon, max_lon, +lat, +lon
        );
        -- the few services that are not victim-facing, for counts that leave them out
        CREATE INDEX search_doc_not_victim_facing ON search_doc(lat) WHERE victim_facing = 0;
        """
    )
    search_index.rebuild(db)


@migrations()
def m006_foreign_key_indexes(db: Database) -> None:
    """Indexes on the child side of foreign keys whose parent rows an edit deletes (partial:
    most rows leave these columns empty, and an import should not pay for indexing NULLs).

    Deleting a location, phone or service_at_location makes SQLite look for rows that still
    point at it; without an index that is a scan of the whole child table for each deleted row
    (about 60 ms a save at 100k services, and hours for a re-import)."""
    db.executescript(
        """
        CREATE INDEX language_location ON language(location_id) WHERE location_id IS NOT NULL;
        CREATE INDEX language_phone ON language(phone_id) WHERE phone_id IS NOT NULL;
        CREATE INDEX phone_location ON phone(location_id) WHERE location_id IS NOT NULL;
        CREATE INDEX phone_organization ON phone(organization_id)
            WHERE organization_id IS NOT NULL;
        CREATE INDEX schedule_location ON schedule(location_id) WHERE location_id IS NOT NULL;
        CREATE INDEX schedule_sal ON schedule(service_at_location_id)
            WHERE service_at_location_id IS NOT NULL;
        CREATE INDEX location_organization ON location(organization_id)
            WHERE organization_id IS NOT NULL;
        """
    )


@migrations()
def m007_search_facet(db: Database) -> None:
    """A narrow copy of search_doc's facet columns: each service's region, type and language
    sets as small integers (ids of search_facet_set), kept by triggers on search_doc.

    Ranking and counting the hits of a text search reads one row per hit; search_doc's rows
    are 240 bytes, so 5,000 hits touch most of its 24 MB at 100k services and SQLite's page
    cache cannot hold it. These rows are a few bytes (1.6 MB at 100k)."""
    db.executescript(
        """
        CREATE TABLE search_facet_set (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,             -- region|type|language
            codes TEXT NOT NULL,            -- comma-joined codes, as in search_doc.facet_*
            UNIQUE (kind, codes)
        );
        CREATE TABLE search_facet (
            rowid INTEGER PRIMARY KEY,      -- = search_doc.rowid
            regions INTEGER NOT NULL,
            types INTEGER NOT NULL,
            languages INTEGER NOT NULL,
            national INTEGER NOT NULL
        );
        CREATE TRIGGER search_doc_facet_insert AFTER INSERT ON search_doc BEGIN
            INSERT OR IGNORE INTO search_facet_set (kind, codes) VALUES
                ('region', coalesce(new.facet_regions, '')),
                ('type', coalesce(new.facet_types, '')),
                ('language', coalesce(new.facet_languages, ''));
            INSERT OR REPLACE INTO search_facet (rowid, regions, types, languages, national)
            VALUES (
                new.rowid,
                (SELECT id FROM search_facet_set
                 WHERE kind = 'region' AND codes = coalesce(new.facet_regions, '')),
                (SELECT id FROM search_facet_set
                 WHERE kind = 'type' AND codes = coalesce(new.facet_types, '')),
                (SELECT id FROM search_facet_set
                 WHERE kind = 'language' AND codes = coalesce(new.facet_languages, '')),
                new.scope = 'national'
            );
        END;
        CREATE TRIGGER search_doc_facet_update
        AFTER UPDATE OF facet_regions, facet_types, facet_languages, scope ON search_doc BEGIN
            INSERT OR IGNORE INTO search_facet_set (kind, codes) VALUES
                ('region', coalesce(new.facet_regions, '')),
                ('type', coalesce(new.facet_types, '')),
                ('language', coalesce(new.facet_languages, ''));
            UPDATE search_facet SET
                regions = (SELECT id FROM search_facet_set
                           WHERE kind = 'region' AND codes = coalesce(new.facet_regions, '')),
                types = (SELECT id FROM search_facet_set
                         WHERE kind = 'type' AND codes = coalesce(new.facet_types, '')),
                languages = (SELECT id FROM search_facet_set
                             WHERE kind = 'language' AND codes = coalesce(new.facet_languages, '')),
                national = new.scope = 'national'
            WHERE rowid = new.rowid;
        END;
        CREATE TRIGGER search_doc_facet_delete AFTER DELETE ON search_doc BEGIN
            DELETE FROM search_facet WHERE rowid = old.rowid;
        END;
        INSERT OR IGNORE INTO search_facet_set (kind, codes)
            SELECT 'region', coalesce(facet_regions, '') FROM search_doc
            UNION SELECT 'type', coalesce(facet_types, '') FROM search_doc
            UNION SELECT 'language', coalesce(facet_languages, '') FROM search_doc;
        INSERT INTO search_facet (rowid, regions, types, languages, national)
            SELECT d.rowid, r.id, t.id, l.id, d.scope = 'national'
            FROM search_doc d
            JOIN search_facet_set r ON r.kind = 'region' AND r.codes = coalesce(d.facet_regions, '')
            JOIN search_facet_set t ON t.kind = 'type' AND t.codes = coalesce(d.facet_types, '')
            JOIN search_facet_set l
                ON l.kind = 'language' AND l.codes = coalesce(d.facet_languages, '');
        """
    )


@migrations()
def m008_search_browse(db: Database) -> None:
    """A narrow copy of search_doc's browse order (scope, 24/7, name), kept by triggers.

    A search without words, and the "serves this area" group (3,000 national services serve
    any place at 100k), sort every hit on these; read from search_doc that is 240 bytes a hit."""
    db.executescript(
        """
        CREATE TABLE search_browse (
            rowid INTEGER PRIMARY KEY,      -- = search_doc.rowid
            scope_rank INTEGER NOT NULL,
            twenty_four_seven INTEGER NOT NULL,
            name_key TEXT NOT NULL
        );
        CREATE TRIGGER search_doc_browse_insert AFTER INSERT ON search_doc BEGIN
            INSERT OR REPLACE INTO search_browse (rowid, scope_rank, twenty_four_seven, name_key)
            VALUES (new.rowid, new.scope_rank, new.twenty_four_seven, new.name_key);
        END;
        CREATE TRIGGER search_doc_browse_update
        AFTER UPDATE OF scope_rank, twenty_four_seven, name_key ON search_doc BEGIN
            UPDATE search_browse SET scope_rank = new.scope_rank,
                twenty_four_seven = new.twenty_four_seven, name_key = new.name_key
            WHERE rowid = new.rowid;
        END;
        CREATE TRIGGER search_doc_browse_delete AFTER DELETE ON search_doc BEGIN
            DELETE FROM search_browse WHERE rowid = old.rowid;
        END;
        INSERT INTO search_browse (rowid, scope_rank, twenty_four_seven, name_key)
            SELECT rowid, scope_rank, twenty_four_seven, name_key FROM search_doc;
        """
    )


@migrations()
def m009_search_version(db: Database) -> None:
    """A counter that moves whenever a service is indexed or dropped from the index: every
    change to published data re-indexes the services it touches. /data's downloads are kept
    per value of it (see downloads.version)."""
    db.executescript(
        """
        CREATE TABLE search_version (n INTEGER NOT NULL);
        INSERT INTO search_version (n) VALUES (0);
        CREATE TRIGGER search_doc_version_insert AFTER INSERT ON search_doc BEGIN
            UPDATE search_version SET n = n + 1;
        END;
        CREATE TRIGGER search_doc_version_delete AFTER DELETE ON search_doc BEGIN
            UPDATE search_version SET n = n + 1;
        END;
        """
    )


@migrations()
def m010_search_browse_phones(db: Database) -> None:
    """search_browse also knows whether a service lists a phone: /hotlines sorts every line
    serving a region (9,000 at 100k) on the narrow table instead of search_doc."""
    db.executescript(
        """
        ALTER TABLE search_browse ADD COLUMN phone_count INTEGER NOT NULL DEFAULT 0;
        UPDATE search_browse SET phone_count =
            (SELECT d.phone_count FROM search_doc d WHERE d.rowid = search_browse.rowid);
        DROP TRIGGER search_doc_browse_insert;
        DROP TRIGGER search_doc_browse_update;
        CREATE TRIGGER search_doc_browse_insert AFTER INSERT ON search_doc BEGIN
            INSERT OR REPLACE INTO search_browse
                (rowid, scope_rank, twenty_four_seven, name_key, phone_count)
            VALUES (new.rowid, new.scope_rank, new.twenty_four_seven, new.name_key,
                    new.phone_count);
        END;
        CREATE TRIGGER search_doc_browse_update
        AFTER UPDATE OF scope_rank, twenty_four_seven, name_key, phone_count ON search_doc BEGIN
            UPDATE search_browse SET scope_rank = new.scope_rank,
                twenty_four_seven = new.twenty_four_seven, name_key = new.name_key,
                phone_count = new.phone_count
            WHERE rowid = new.rowid;
        END;
        """
    )
