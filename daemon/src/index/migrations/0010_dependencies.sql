-- 0010: dependencies between installs.

-- The install in folder `dependent` needs the one in folder `dependency`
-- (a skill its SkillCard's spec.dependencies names, installed beside it),
-- under `requirement`.
CREATE TABLE install_needs (
    dependent    TEXT NOT NULL,
    dependency   TEXT NOT NULL,
    requirement  TEXT NOT NULL,
    PRIMARY KEY (dependent, dependency)
);
CREATE INDEX install_needs_by_dependency ON install_needs (dependency);

-- Installs made only because another install needed them: `autoremove`
-- removes them once nothing needs them. Installing one by name takes it
-- off this list.
CREATE TABLE dependency_installs (
    path TEXT PRIMARY KEY
);
