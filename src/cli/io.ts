export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}
