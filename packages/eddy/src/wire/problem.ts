/** An RFC 9457 problem document, as every Eddy HTTP error is (codes: docs/errors.md). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  /** What was wrong, each with where: a field path (`data.total`), a batch index (`[2]`), a file. */
  errors?: ProblemItem[];
  [member: string]: unknown;
}

/** One thing a {@link Problem} found wrong, and where. */
export interface ProblemItem {
  path: string;
  message: string;
}

/** An error as recorded on invocations and dead letters. */
export interface ErrorView {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}
