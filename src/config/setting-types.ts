/**
 * The leaf types of settings. Each accepts its native type or its string form, so environment variables and flags
 * go through the same validation as the config file.
 */
import { z } from 'zod';

const numeric = (v: unknown) =>
  typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v;

export const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(numeric, z.number().int().min(min).max(max));
export const num = (min: number) => z.preprocess(numeric, z.number().min(min));
export const bool = () =>
  z.preprocess(
    (v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
    z.boolean(),
  );
/** A JSON array, or a comma-separated list as an environment variable or flag writes it. */
export const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    z.array(item),
  );
export const url = () =>
  z.string().regex(/^https?:\/\/[^\s/]+/, 'expected an http(s) URL such as http://localhost:9870');
export const hostPort = z
  .string()
  .regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, for example localhost:9092');
export const hdfsPath = z
  .string()
  .regex(/^\/[^\s]*$/, 'expected an absolute HDFS path such as /twitter_data');
export const port = () => int(0, 65535);

/** A Kerberos identity: principal and keytab, or neither (the user's ticket cache, from kinit). */
export const kerberosIdentity = z.strictObject({
  principal: z
    .string()
    .regex(/^[^\s@]+@[^\s@]+$/, 'expected a principal such as tweetpipe@EXAMPLE.COM')
    .optional(),
  keytab: z.string().min(1).optional(),
  /** A krb5.conf of its own (else the system's /etc/krb5.conf, or KRB5_CONFIG). */
  krb5Conf: z.string().min(1).optional(),
});
