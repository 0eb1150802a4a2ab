// bench-e2e's reader of Apache Kafka's own request counts: attaches to the broker's JVM (same user),
// starts its local JMX agent, and prints one JSON line: requests handled so far by type
// (kafka.network RequestMetrics RequestsPerSec Count, summed over versions), records and bytes in,
// and the partitions fetched and produced to (BrokerTopicMetrics). Run as a source file:
// `java benchmarks/BrokerRequests.java PID`. No polling: read before and after a drain.
import com.sun.tools.attach.VirtualMachine;
import java.util.Map;
import java.util.TreeMap;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

public class BrokerRequests {
    public static void main(String[] args) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(args[0]);
        String url = vm.startLocalManagementAgent();
        vm.detach();
        try (JMXConnector jmx = JMXConnectorFactory.connect(new JMXServiceURL(url))) {
            MBeanServerConnection c = jmx.getMBeanServerConnection();
            TreeMap<String, Long> counts = new TreeMap<>();
            ObjectName all = new ObjectName("kafka.network:type=RequestMetrics,name=RequestsPerSec,*");
            for (ObjectName n : c.queryNames(all, null)) {
                counts.merge(n.getKeyProperty("request"), ((Number) c.getAttribute(n, "Count")).longValue(), Long::sum);
            }
            String[][] topics = {
                {"MessagesInPerSec", "records_in"}, {"BytesInPerSec", "bytes_in"}, {"BytesOutPerSec", "bytes_out"},
                {"TotalProduceRequestsPerSec", "partitions_produced"}, {"TotalFetchRequestsPerSec", "partitions_fetched"}};
            for (String[] t : topics) {
                ObjectName n = new ObjectName("kafka.server:type=BrokerTopicMetrics,name=" + t[0]);
                counts.put("." + t[1], ((Number) c.getAttribute(n, "Count")).longValue());
            }
            StringBuilder out = new StringBuilder("{");
            for (Map.Entry<String, Long> e : counts.entrySet()) {
                if (out.length() > 1) out.append(",");
                out.append('"').append(e.getKey()).append("\":").append(e.getValue());
            }
            System.out.println(out.append("}"));
        }
    }
}
