/* Prints every size, offset and constant VerbsLayout holds, from the installed <infiniband/verbs.h>. */
#include <stddef.h>
#include <stdio.h>
#include <infiniband/verbs.h>

#define P(name, value) printf("%s %ld\n", name, (long)(value))
#define OFF(name, type, field) P(name, offsetof(type, field))

int main(void) {
  P("SEND_WR_BYTES", sizeof(struct ibv_send_wr));
  OFF("WR_ID", struct ibv_send_wr, wr_id);
  OFF("WR_NEXT", struct ibv_send_wr, next);
  OFF("WR_SG_LIST", struct ibv_send_wr, sg_list);
  OFF("WR_NUM_SGE", struct ibv_send_wr, num_sge);
  OFF("WR_OPCODE", struct ibv_send_wr, opcode);
  OFF("WR_SEND_FLAGS", struct ibv_send_wr, send_flags);
  OFF("WR_REMOTE_ADDR", struct ibv_send_wr, wr.rdma.remote_addr);
  OFF("WR_RKEY", struct ibv_send_wr, wr.rdma.rkey);
  P("SGE_BYTES", sizeof(struct ibv_sge));
  OFF("SGE_ADDR", struct ibv_sge, addr);
  OFF("SGE_LENGTH", struct ibv_sge, length);
  OFF("SGE_LKEY", struct ibv_sge, lkey);
  P("WC_BYTES", sizeof(struct ibv_wc));
  OFF("WC_ID", struct ibv_wc, wr_id);
  OFF("WC_STATUS", struct ibv_wc, status);
  OFF("WC_OPCODE", struct ibv_wc, opcode);
  OFF("WC_VENDOR_ERR", struct ibv_wc, vendor_err);
  OFF("WC_BYTE_LEN", struct ibv_wc, byte_len);
  OFF("WC_QP_NUM", struct ibv_wc, qp_num);
  P("QP_ATTR_BYTES", sizeof(struct ibv_qp_attr));
  OFF("QPA_STATE", struct ibv_qp_attr, qp_state);
  OFF("QPA_PATH_MTU", struct ibv_qp_attr, path_mtu);
  OFF("QPA_RQ_PSN", struct ibv_qp_attr, rq_psn);
  OFF("QPA_SQ_PSN", struct ibv_qp_attr, sq_psn);
  OFF("QPA_DEST_QP_NUM", struct ibv_qp_attr, dest_qp_num);
  OFF("QPA_ACCESS_FLAGS", struct ibv_qp_attr, qp_access_flags);
  OFF("QPA_AH_DGID", struct ibv_qp_attr, ah_attr.grh.dgid);
  OFF("QPA_AH_FLOW_LABEL", struct ibv_qp_attr, ah_attr.grh.flow_label);
  OFF("QPA_AH_SGID_INDEX", struct ibv_qp_attr, ah_attr.grh.sgid_index);
  OFF("QPA_AH_HOP_LIMIT", struct ibv_qp_attr, ah_attr.grh.hop_limit);
  OFF("QPA_AH_TRAFFIC_CLASS", struct ibv_qp_attr, ah_attr.grh.traffic_class);
  OFF("QPA_AH_DLID", struct ibv_qp_attr, ah_attr.dlid);
  OFF("QPA_AH_SL", struct ibv_qp_attr, ah_attr.sl);
  OFF("QPA_AH_IS_GLOBAL", struct ibv_qp_attr, ah_attr.is_global);
  OFF("QPA_AH_PORT_NUM", struct ibv_qp_attr, ah_attr.port_num);
  OFF("QPA_PKEY_INDEX", struct ibv_qp_attr, pkey_index);
  OFF("QPA_MAX_RD_ATOMIC", struct ibv_qp_attr, max_rd_atomic);
  OFF("QPA_MAX_DEST_RD_ATOMIC", struct ibv_qp_attr, max_dest_rd_atomic);
  OFF("QPA_MIN_RNR_TIMER", struct ibv_qp_attr, min_rnr_timer);
  OFF("QPA_PORT_NUM", struct ibv_qp_attr, port_num);
  OFF("QPA_TIMEOUT", struct ibv_qp_attr, timeout);
  OFF("QPA_RETRY_CNT", struct ibv_qp_attr, retry_cnt);
  OFF("QPA_RNR_RETRY", struct ibv_qp_attr, rnr_retry);
  P("DEVICE_ATTR_BYTES", sizeof(struct ibv_device_attr));
  OFF("DA_MAX_MR_SIZE", struct ibv_device_attr, max_mr_size);
  OFF("DA_MAX_QP", struct ibv_device_attr, max_qp);
  OFF("DA_MAX_QP_WR", struct ibv_device_attr, max_qp_wr);
  OFF("DA_MAX_SGE", struct ibv_device_attr, max_sge);
  OFF("DA_MAX_CQE", struct ibv_device_attr, max_cqe);
  OFF("DA_MAX_QP_RD_ATOM", struct ibv_device_attr, max_qp_rd_atom);
  OFF("DA_PHYS_PORT_CNT", struct ibv_device_attr, phys_port_cnt);
  /* Not a size: the port attributes must fit the bytes Java reserves for them. */
  P("PORT_ATTR_FITS", sizeof(struct ibv_port_attr) <= 64 ? 64 : -1);
  OFF("PA_STATE", struct ibv_port_attr, state);
  OFF("PA_ACTIVE_MTU", struct ibv_port_attr, active_mtu);
  OFF("PA_GID_TBL_LEN", struct ibv_port_attr, gid_tbl_len);
  OFF("PA_LID", struct ibv_port_attr, lid);
  OFF("PA_LINK_LAYER", struct ibv_port_attr, link_layer);
  P("GID_BYTES", sizeof(union ibv_gid));
  P("WR_RDMA_WRITE", IBV_WR_RDMA_WRITE);
  P("WR_RDMA_READ", IBV_WR_RDMA_READ);
  P("SEND_SIGNALED", IBV_SEND_SIGNALED);
  P("WC_RDMA_WRITE", IBV_WC_RDMA_WRITE);
  P("WC_RDMA_READ", IBV_WC_RDMA_READ);
  P("WC_SUCCESS", IBV_WC_SUCCESS);
  P("WC_LOC_LEN_ERR", IBV_WC_LOC_LEN_ERR);
  P("WC_LOC_QP_OP_ERR", IBV_WC_LOC_QP_OP_ERR);
  P("WC_LOC_PROT_ERR", IBV_WC_LOC_PROT_ERR);
  P("WC_WR_FLUSH_ERR", IBV_WC_WR_FLUSH_ERR);
  P("WC_LOC_ACCESS_ERR", IBV_WC_LOC_ACCESS_ERR);
  P("WC_REM_ACCESS_ERR", IBV_WC_REM_ACCESS_ERR);
  P("WC_REM_OP_ERR", IBV_WC_REM_OP_ERR);
  P("WC_RETRY_EXC_ERR", IBV_WC_RETRY_EXC_ERR);
  P("WC_GENERAL_ERR", IBV_WC_GENERAL_ERR);
  P("QPS_RESET", IBV_QPS_RESET);
  P("QPS_INIT", IBV_QPS_INIT);
  P("QPS_RTR", IBV_QPS_RTR);
  P("QPS_RTS", IBV_QPS_RTS);
  P("QPS_ERR", IBV_QPS_ERR);
  P("QP_STATE", IBV_QP_STATE);
  P("QP_ACCESS_FLAGS", IBV_QP_ACCESS_FLAGS);
  P("QP_PKEY_INDEX", IBV_QP_PKEY_INDEX);
  P("QP_PORT", IBV_QP_PORT);
  P("QP_AV", IBV_QP_AV);
  P("QP_PATH_MTU", IBV_QP_PATH_MTU);
  P("QP_TIMEOUT", IBV_QP_TIMEOUT);
  P("QP_RETRY_CNT", IBV_QP_RETRY_CNT);
  P("QP_RNR_RETRY", IBV_QP_RNR_RETRY);
  P("QP_RQ_PSN", IBV_QP_RQ_PSN);
  P("QP_MAX_QP_RD_ATOMIC", IBV_QP_MAX_QP_RD_ATOMIC);
  P("QP_MIN_RNR_TIMER", IBV_QP_MIN_RNR_TIMER);
  P("QP_SQ_PSN", IBV_QP_SQ_PSN);
  P("QP_MAX_DEST_RD_ATOMIC", IBV_QP_MAX_DEST_RD_ATOMIC);
  P("QP_DEST_QPN", IBV_QP_DEST_QPN);
  P("ACCESS_LOCAL_WRITE", IBV_ACCESS_LOCAL_WRITE);
  P("ACCESS_REMOTE_WRITE", IBV_ACCESS_REMOTE_WRITE);
  P("ACCESS_REMOTE_READ", IBV_ACCESS_REMOTE_READ);
  P("ACCESS_REMOTE_ATOMIC", IBV_ACCESS_REMOTE_ATOMIC);
  P("ACCESS_RELAXED_ORDERING", IBV_ACCESS_RELAXED_ORDERING);
  P("PORT_ACTIVE", IBV_PORT_ACTIVE);
  P("MTU_1024", IBV_MTU_1024);
  P("MTU_4096", IBV_MTU_4096);
  P("LINK_LAYER_INFINIBAND", IBV_LINK_LAYER_INFINIBAND);
  P("LINK_LAYER_ETHERNET", IBV_LINK_LAYER_ETHERNET);
  return 0;
}
