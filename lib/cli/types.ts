export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}
