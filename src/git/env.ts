/**
 * The environment without the variables that point git at a repository: a git hook runs pq
 * with GIT_DIR and friends set for the repository being pushed to, while pq names its
 * repository by directory (the scratch trees of pq ci and the gate are repositories of their own).
 */
export function repositoryFreeEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !REPOSITORY_VARIABLES.test(k)));
}

/** The variables that point git at a repository, an index or an object store (see repositoryFreeEnv). */
export const REPOSITORY_VARIABLES =
  /^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|QUARANTINE_PATH|PREFIX|COMMON_DIR)$/;

/**
 * Removes those variables from this process's environment, for every git it runs (simple-git's,
 * and the git a module starts itself). Some calls had kept them: pq finish, with GIT_DIR set,
 * wrote its commits into that other repository, and with GIT_INDEX_FILE set left the tree's
 * index behind the branch it moved (t93 N4). Not for the server's gate, which a git hook runs
 * with them naming the repository pushed to.
 */
export function dropRepositoryVariables(): void {
  for (const k of Object.keys(process.env)) if (REPOSITORY_VARIABLES.test(k)) delete process.env[k];
}
