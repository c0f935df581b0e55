/** The local stack of `tweetpipe stack` (`stack.*`): its ports, heaps and folders. */
import { z } from 'zod';
import { int, port } from './setting-types.ts';

export const stackSettings = z
  .strictObject({
    /** Where the servers keep their data and logs. */
    home: z.string().min(1).default('.tweetpipe/stack'),
    /** Where the Maven-fetched jars are cached (shared across checkouts). */
    cacheDir: z.string().min(1).default('~/.cache/tweetpipe'),
    kafkaPort: port().default(9092),
    controllerPort: port().default(9093),
    /** `stack up --secure`: the SASL_SSL listener (SCRAM-SHA-256/512 and PLAIN users) and the mutual-TLS one. */
    kafkaSaslSslPort: port().default(9094),
    kafkaSslPort: port().default(9095),
    namenodeRpcPort: port().default(9000),
    webhdfsPort: port().default(9870),
    datanodeHttpPort: port().default(9864),
    datanodePort: port().default(9866),
    datanodeIpcPort: port().default(9867),
    /** `stack up --ha`: the second NameNode (the first is namenodeRpcPort / webhdfsPort), and the HttpFS gateway. */
    standbyNamenodeRpcPort: port().default(9020),
    standbyWebhdfsPort: port().default(9880),
    httpfsPort: port().default(14000),
    kafkaHeapMb: int(128).default(1024),
    hdfsHeapMb: int(128).default(768),
    /** The Hive Metastore of `stack up --hive`. */
    metastorePort: port().default(9083),
    metastoreHeapMb: int(128).default(384),
    startTimeoutS: int(5).default(120),
  })
  .prefault({});
