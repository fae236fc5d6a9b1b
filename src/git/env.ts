/**
 * The environment without the variables that point git at a repository: a git hook runs pq
 * with GIT_DIR and friends set for the repository being pushed to, while pq names its
 * repository by directory (the scratch trees of pq ci and the gate are repositories of their own).
 */
export function repositoryFreeEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|QUARANTINE_PATH|PREFIX|COMMON_DIR)$/.test(k),
    ),
  );
}
